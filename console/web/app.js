// The ats console: one page per route (#/…), each drawn from the HTTP API and kept live by the
// server's event stream (/api/events). No build step: plain modules the browser runs as they are.
import { accountPage } from './account-page.js';
import { api, esc, fmt, pnl, session, setCsrf } from './lib.js';

const main = document.getElementById('main');
const live = new EventTarget();
let events;

function startEvents() {
  events?.close();
  events = new EventSource('/api/events');
  for (const type of ['account', 'log', 'recommendations', 'config']) {
    events.addEventListener(type, (e) => live.dispatchEvent(new CustomEvent(type, { detail: JSON.parse(e.data) })));
  }
}

/** Runs `handler` for live events of `type` until the page changes. */
let unsubscribers = [];
function on(type, handler) {
  const fn = (e) => handler(e.detail);
  live.addEventListener(type, fn);
  unsubscribers.push(() => live.removeEventListener(type, fn));
}

async function route() {
  for (const u of unsubscribers) u();
  unsubscribers = [];
  const hash = location.hash || '#/';
  const s = await session();
  setCsrf(s.csrfToken);
  if (!s.user) return loginPage();
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-system').hidden = s.user.role !== 'admin';
  document.getElementById('who').innerHTML = `${esc(s.user.name)} (${esc(s.user.role)}) · <a href="#/logout">log out</a>`;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('href') === hash);
  if (!events) startEvents();
  try {
    const [, page, id] = hash.split('/');
    if (page === 'logout') {
      await api('POST', '/api/logout');
      events?.close();
      events = undefined;
      location.hash = '#/';
      return;
    }
    if (page === 'accounts' && id) return await accountPage(main, decodeURIComponent(id), on);
    if (page === 'recommendations') return await recommendationsPage();
    if (page === 'logs') return await logsPage();
    if (page === 'system') return await systemPage();
    return await overviewPage(s.user);
  } catch (err) {
    main.innerHTML = `<div class="notice error">${esc(err.message)}</div>`;
  }
}

function loginPage() {
  document.getElementById('nav').hidden = true;
  document.getElementById('who').textContent = '';
  main.innerHTML = `
    <form class="panel login" id="login">
      <h1>Log in</h1>
      <label>User <input name="name" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <div class="actions"><button class="primary" type="submit">Log in</button></div>
      <div id="login-result"></div>
    </form>`;
  document.getElementById('login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      await api('POST', '/api/login', { name: form.get('name'), password: form.get('password') });
      await route();
    } catch (err) {
      document.getElementById('login-result').innerHTML = `<div class="notice error">${esc(err.message)}</div>`;
    }
  });
}

const accountRow = (a) => `
  <tr data-id="${esc(a.id)}">
    <td><a href="#/accounts/${encodeURIComponent(a.id)}">${esc(a.displayName)}</a><div class="muted">${esc(a.id)}</div></td>
    <td><span class="badge ${esc(a.phase)}">${esc(a.phase)}</span>${a.pool ? ` <span class="muted">${esc(a.pool)}</span>` : ''}</td>
    <td class="num">${fmt(a.equity)}</td>
    <td class="num">${pnl(a.unrealizedPnl)}</td>
    <td class="num">${pnl(a.pnlToday)}</td>
    <td class="num">${a.openPositions ?? '–'}</td>
    <td class="wrap ${a.lastError || a.problem ? 'down' : ''}">${esc(a.problem ?? a.lastError ?? '')}</td>
  </tr>`;

async function overviewPage(user) {
  const accounts = await api('GET', '/api/accounts');
  main.innerHTML = `
    <h1>Accounts</h1>
    <table id="accounts">
      <thead><tr><th>Account</th><th>Phase</th><th class="num">Equity</th><th class="num">Unrealized PnL</th><th class="num">PnL today</th><th class="num">Positions</th><th>Last error</th></tr></thead>
      <tbody>${accounts.map(accountRow).join('') || '<tr><td colspan="7" class="muted">No accounts yet: create one below.</td></tr>'}</tbody>
    </table>
    <h2>New account</h2>
    <form class="panel" id="create">
      <label>Id <input name="id" required pattern="[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?" placeholder="dave" /><small>lowercase letters, digits and dashes</small></label>
      <label>Name <input name="displayName" required placeholder="Dave (steady)" /></label>
      <label>Exchange <input name="exchange" placeholder="simulator" /><small>live, demo, testnet, simulator (empty: the installation's default)</small></label>
      <label>API key <input name="apiKey" autocomplete="off" /><small>optional here; write-only (never shown again)</small></label>
      <label>API secret <input name="apiSecret" type="password" autocomplete="off" /></label>
      ${user.role === 'admin' ? '<label>Owner <input name="owner" placeholder="(you)" /></label>' : ''}
      <div class="actions"><button class="primary" type="submit">Create</button></div>
      <div id="create-result"></div>
    </form>`;
  const tbody = main.querySelector('#accounts tbody');
  on('account', (a) => {
    const row = tbody.querySelector(`tr[data-id="${CSS.escape(a.id)}"]`);
    if (row) row.outerHTML = accountRow(a);
    else if (accounts.length === 0 || tbody.querySelector('tr[data-id]')) tbody.insertAdjacentHTML('beforeend', accountRow(a));
  });
  main.querySelector('#create').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { id: f.get('id'), displayName: f.get('displayName') };
    if (f.get('exchange')) body.exchange = f.get('exchange');
    if (f.get('apiKey') || f.get('apiSecret')) body.key = { apiKey: f.get('apiKey'), apiSecret: f.get('apiSecret') };
    if (f.get('owner')) body.owner = f.get('owner');
    const out = main.querySelector('#create-result');
    try {
      const r = await api('POST', '/api/accounts', body);
      out.innerHTML = `<div class="notice ok">${esc(r.message)}</div>`;
      e.target.reset();
    } catch (err) {
      out.innerHTML = `<div class="notice error">${esc(err.message)}</div>`;
    }
  });
}

async function recommendationsPage() {
  const draw = async () => {
    const snap = await api('GET', '/api/recommendations');
    const recs = snap?.recommendations ?? [];
    main.innerHTML = `
      <h1>Recommendations</h1>
      <p class="muted">${snap ? `Version ${snap.version}, generated ${new Date(snap.generatedAt).toLocaleString()}` : 'None published yet.'}</p>
      <table id="recommendations">
        <thead><tr><th>Symbol</th><th>Side</th><th class="num">Entry</th><th class="num">Stop-loss</th><th class="num">Take-profit</th><th class="num">Score</th><th>Strategy</th><th>Expires</th><th>Reason</th></tr></thead>
        <tbody>${recs
          .map(
            (r) => `<tr><td>${esc(r.symbol)}</td><td class="${r.side === 'long' ? 'up' : 'down'}">${r.side}</td><td class="num">${fmt(r.entry, 6)}</td>
            <td class="num">${fmt(r.stopLoss, 6)}</td><td class="num">${fmt(r.takeProfit, 6)}</td><td class="num">${fmt(r.score, 2)}</td>
            <td>${esc(r.strategy)} ${esc(r.interval)}</td><td>${new Date(r.expiresAt).toLocaleTimeString()}</td><td class="wrap">${esc(r.reason)}</td></tr>`,
          )
          .join('')}</tbody>
      </table>`;
  };
  await draw();
  on('recommendations', () => void draw());
}

const logRow = (
  e,
) => `<tr><td>${esc(new Date(e.time).toLocaleString())}</td><td class="${e.level === 'error' ? 'down' : e.level === 'warning' ? 'muted' : ''}">${e.level}</td>
  <td>${esc(e.component)}</td><td>${esc(e.accountId)}</td><td class="wrap">${esc(e.msg)} <span class="muted">${esc(details(e.fields))}</span></td></tr>`;
const details = (fields) =>
  Object.entries(fields ?? {})
    .filter(([k]) => !['level', 'time', 'msg', 'component', 'account_id', 'pid', 'hostname'].includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' ')
    .slice(0, 300);

async function logsPage() {
  const accounts = await api('GET', '/api/accounts');
  main.innerHTML = `
    <h1>Logs</h1>
    <form class="filters" id="filters">
      <select name="level"><option value="all">all levels</option><option>error</option><option>warning</option><option>info</option></select>
      <select name="account"><option value="">all accounts</option>${accounts.map((a) => `<option>${esc(a.id)}</option>`).join('')}</select>
      <input name="text" placeholder="text" />
      <button type="submit">Filter</button>
    </form>
    <table id="logs"><thead><tr><th>Time</th><th>Level</th><th>Component</th><th>Account</th><th>Message</th></tr></thead><tbody></tbody></table>`;
  const form = main.querySelector('#filters');
  const tbody = main.querySelector('#logs tbody');
  let filter = {};
  const load = async () => {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
    tbody.innerHTML = (await api('GET', `/api/logs?${q}`)).map(logRow).join('');
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filter = Object.fromEntries(new FormData(form));
    void load();
  });
  await load();
  on('log', (e) => {
    if (filter.level && filter.level !== 'all' && e.level !== filter.level) return;
    if (filter.account && e.accountId !== filter.account) return;
    if (filter.text && !`${e.msg} ${JSON.stringify(e.fields)}`.toLowerCase().includes(filter.text.toLowerCase())) return;
    tbody.insertAdjacentHTML('afterbegin', logRow(e));
    while (tbody.rows.length > 500) tbody.deleteRow(-1);
  });
}

async function systemPage() {
  const draw = async () => {
    const [s, audit, users] = await Promise.all([api('GET', '/api/system'), api('GET', '/api/audit?limit=50'), api('GET', '/api/users')]);
    const used = Object.entries(s.weight.usedThisMinute);
    main.innerHTML = `
      <h1>System</h1>
      <div class="cards">
        <div class="card"><div class="label">Runtime</div><div class="value">${esc(s.runtime)}</div></div>
        <div class="card"><div class="label">marketdata heartbeat</div><div class="value">${age(s.marketdata.heartbeatAgeSeconds)}</div></div>
        <div class="card"><div class="label">Mark prices</div><div class="value">${age(s.marketdata.markPricesAgeSeconds)}</div></div>
        <div class="card"><div class="label">Recommendations v${s.marketdata.recommendationsVersion ?? '–'}</div><div class="value">${age(s.marketdata.recommendationsAgeSeconds)}</div></div>
        <div class="card"><div class="label">Weight this minute / limit</div><div class="value" id="weight">${used.length ? used.map(([k, v]) => `${esc(k)}: ${v}`).join(', ') : 0} / ${s.weight.limit ?? '–'}</div></div>
        <div class="card"><div class="label">429 / 418</div><div class="value">${s.rateLimited['429']} / ${s.rateLimited['418']}</div></div>
        <div class="card"><div class="label">Accounts</div><div class="value">${s.accounts.total}</div><div class="muted">${Object.entries(s.accounts.byPhase)
          .map(([k, v]) => `${esc(k)} ${v}`)
          .join(' · ')}</div></div>
      </div>
      <h2>Trader pools</h2>
      <table><thead><tr><th>Pool</th><th>Accounts</th></tr></thead><tbody>${s.pools.map((p) => `<tr><td>${esc(p.pool)}</td><td class="wrap">${p.accounts.map(esc).join(', ')}</td></tr>`).join('') || '<tr><td colspan="2" class="muted">No pooled accounts.</td></tr>'}</tbody></table>
      <h2>Users</h2>
      <table><thead><tr><th>User</th><th>Role</th><th>Accounts</th></tr></thead><tbody>${users.map((u) => `<tr><td>${esc(u.name)}</td><td>${u.role}</td><td class="wrap">${u.role === 'admin' ? '(all)' : u.accounts.map(esc).join(', ')}</td></tr>`).join('')}</tbody></table>
      <h2>Audit log</h2>
      <table id="audit"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Account</th><th>Outcome</th><th>Detail</th></tr></thead>
      <tbody>${audit.map((a) => `<tr><td>${esc(new Date(a.at).toLocaleString())}</td><td>${esc(a.user)}</td><td>${esc(a.action)}</td><td>${esc(a.accountId ?? '')}</td><td class="${a.outcome === 'ok' ? 'up' : 'down'}">${a.outcome}</td><td class="wrap muted">${esc(JSON.stringify(a.detail).slice(0, 200))}</td></tr>`).join('')}</tbody></table>`;
  };
  await draw();
  const timer = setInterval(() => void draw().catch(() => undefined), 10_000);
  unsubscribers.push(() => clearInterval(timer));
}

const age = (s) => (s === null || s === undefined ? '–' : s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`);

window.addEventListener('hashchange', () => void route());
void route();
