// Shared by the pages: the API client (session cookie + CSRF header) and formatting.
let csrf = '';
export const setCsrf = (token) => (csrf = token);

/** Calls the API; a refusal becomes an Error with the server's own message. */
export async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(method !== 'GET' ? { 'x-csrf-token': csrf } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  if (res.status === 401 && path !== '/api/login') {
    location.hash = '#/';
    throw new Error(data?.error ?? 'Not logged in.');
  }
  if (!res.ok) throw new Error(data?.error ?? `${res.status} ${res.statusText}`);
  return data;
}

export const session = () => api('GET', '/api/session');

export const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export const fmt = (v, digits = 2) =>
  v === null || v === undefined || v === ''
    ? '–'
    : Number(v).toLocaleString(undefined, { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits });

export const pnl = (v) =>
  v === null || v === undefined ? '–' : `<span class="${Number(v) >= 0 ? 'up' : 'down'}">${Number(v) >= 0 ? '+' : ''}${fmt(v)}</span>`;
