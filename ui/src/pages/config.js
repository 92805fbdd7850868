// The effective configuration, read-only; the server prints secrets as hidden.
import { h, panel, failure } from '../dom.js';
import { api } from '../api.js';

export async function configPage() {
  const res = await api('/api/v1/status/config');
  if (!res.ok) return panel('Configuration', failure(res));
  return panel('Effective configuration', h('p', { class: 'muted' }, 'Read-only: as loaded from the configuration file, environment and flags, with defaults filled in. Secrets are shown as hidden.'),
    h('pre', { class: 'config', id: 'config-text' }, String(res.data?.text ?? '')));
}
