// The one place the UI talks to the server. The token lives in sessionStorage (gone when
// the tab closes) and is sent as a bearer header.

const KEY = 'hush.token';

export const token = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (t) => (t ? sessionStorage.setItem(KEY, t) : sessionStorage.removeItem(KEY)),
};

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token.get();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

/** → {ok, status, data, body, error}; never throws. */
export async function api(path, opts = {}) {
  try {
    const r = await fetch(path, {
      method: opts.method || 'GET',
      headers: headers(opts.body ? { 'Content-Type': 'application/json' } : {}),
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    let body = null;
    try { body = await r.json(); } catch { body = null; }
    return {
      ok: r.ok,
      status: r.status,
      body,
      data: body && 'data' in body ? body.data : body,
      error: r.ok ? null : (body && body.error) || r.statusText,
    };
  } catch (e) {
    return { ok: false, status: 0, data: null, body: null, error: String(e && e.message ? e.message : e) };
  }
}

/** A list from either `{data: [...]}` or `{data: {items|incidents|...: [...]}}`. */
export function list(res, ...keys) {
  const d = res && res.data;
  if (Array.isArray(d)) return d;
  if (d && typeof d === 'object') {
    for (const k of [...keys, 'items', 'result', 'data']) if (Array.isArray(d[k])) return d[k];
  }
  return [];
}

/** PromQL range query → [{metric, values: [[t, "v"], …]}]. */
export async function range(query, start, end, step) {
  const q = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) });
  const r = await api(`/api/v1/query_range?${q}`);
  return r.ok && r.data && Array.isArray(r.data.result) ? r.data.result : [];
}

/** Server-Sent Events with the token (EventSource cannot send headers, so fetch streams). */
export function subscribe(path, onEvent) {
  const ctl = new AbortController();
  (async () => {
    try {
      const r = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal: ctl.signal });
      if (!r.ok || !r.body) return;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          const data = [];
          for (const line of chunk.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length) onEvent(event, data.join('\n'));
        }
      }
    } catch { /* aborted or the server went away: the page still works without live updates */ }
  })();
  return () => ctl.abort();
}
