// State shared by the shell and the pages.

const ROLES = ['read', 'write', 'operator', 'admin'];

/** What the current token may do: filled from GET /api/v1/whoami. */
export const session = {
  role: null,
  auth: false,
  can(role) {
    return this.role !== null && ROLES.indexOf(this.role) >= ROLES.indexOf(role);
  },
};

export const leaving = [];
/** Pages register what to stop when the user leaves (SSE streams, timers). */
export function onLeave(fn) {
  leaving.push(fn);
}

/** Client-side navigation: the shell listens for popstate. */
export function navigate(path) {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}
