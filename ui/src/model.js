// Normalises the shapes the API branches answer with, so pages read one shape and missing
// fields become absent values rather than errors.
import { toDate } from './dom.js';

export function incident(i) {
  if (!i || typeof i !== 'object') return null;
  const services = Array.isArray(i.services) ? i.services.map(String) : [];
  const rc = i.root_cause ?? i.rootCause ?? null;
  const rootCause = rc && typeof rc === 'object' ? rc.service ?? rc.name ?? null : rc;
  const hyps = Array.isArray(i.hypotheses) ? i.hypotheses : Array.isArray(i.rca) ? i.rca : [];
  const hypotheses = hyps.map((x) => ({
    service: x.service ?? x.name ?? x.node ?? null,
    score: typeof x.score === 'number' ? x.score : null,
    summary: x.summary ?? x.explanation ?? null,
    evidence: Array.isArray(x.evidence) ? x.evidence : [],
  }));
  // The server's live RCA: `rootCause: {service, summary, evidence, ranked}`.
  const rco = rc && typeof rc === 'object' ? rc : {};
  if (!hypotheses.length && rootCause) {
    const evidence = Array.isArray(rco.evidence) ? rco.evidence.slice() : Array.isArray(i.evidence) ? i.evidence.slice() : [];
    if (i.change) evidence.unshift(`change: ${i.change}`);
    hypotheses.push({ service: String(rootCause), score: null, summary: rco.summary ?? i.summary ?? null, evidence });
  }
  for (const s of Array.isArray(rco.ranked) ? rco.ranked.map(String) : []) {
    if (!hypotheses.some((x) => x.service === s)) hypotheses.push({ service: s, score: null, summary: null, evidence: [] });
  }
  // The demo's ranked suspects, best first: the others are the alternatives.
  if (Array.isArray(i.suspects)) {
    for (const s of i.suspects.map(String)) if (!hypotheses.some((x) => x.service === s)) hypotheses.push({ service: s, score: null, summary: null, evidence: [] });
  }
  const opened = toDate(i.openedAt ?? i.opened_at ?? i.opened_ms ?? i.opened);
  const alerts = typeof i.alerts === 'number' ? i.alerts : Array.isArray(i.members) ? i.members.length : Array.isArray(i.alerts) ? i.alerts.length : null;
  return {
    id: String(i.id ?? ''),
    title: i.title || i.summary || (services.length ? `Incident on ${services.join(', ')}` : `Incident ${i.id ?? ''}`),
    priority: typeof i.priority === 'number' ? `P${i.priority}` : String(i.priority || 'P?').toUpperCase(),
    state: String(i.state || 'open').toLowerCase(),
    opened,
    resolved: toDate(i.resolvedAt ?? i.resolved_at),
    services,
    alerts,
    assignee: i.assignee ?? null,
    rootCause: rootCause ? String(rootCause) : null,
    hypotheses,
    members: Array.isArray(i.members) ? i.members : [],
    verdict: i.verdict ?? null,
    raw: i,
  };
}

export const isOpen = (i) => i.state !== 'resolved';

export function byPriorityThenNewest(a, b) {
  return a.priority.localeCompare(b.priority) || (b.opened?.getTime() ?? 0) - (a.opened?.getTime() ?? 0);
}

/** A PromQL selector matching exactly `labels` (values escaped). */
export function selector(labels, name) {
  const parts = [];
  for (const [k, v] of Object.entries(labels || {})) {
    if (k === '__name__') continue;
    parts.push(`${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  }
  return `${name}{${parts.join(',')}}`;
}

export const EMPTY_INCIDENTS = 'No incidents yet — point Alertmanager\'s webhook at /api/v1/alerts/alertmanager, POST alerts to /api/v1/alerts, or run `hush demo` to see some.';
export const EMPTY_ANOMALIES = 'No anomalies yet — send metrics by Prometheus remote_write to /api/v1/write (or OTLP to /v1/metrics) with `detection.enabled: true`; detection needs a few hours of history per series.';
