// One account: status and actions, positions with their stop-loss and take-profit, open orders,
// the equity curve, the config form (built from the API's own schema), the key form, records.
import { api, esc, fmt, pnl } from './lib.js';

let configSchema;
/** The config's JSON schema, from the OpenAPI document (generated from the CRD's zod schema). */
async function loadConfigSchema() {
  if (configSchema) return configSchema;
  const doc = await api('GET', '/api/openapi.json');
  const body = doc.paths['/api/accounts/{id}/config'].put.requestBody.content['application/json'].schema;
  configSchema = body.properties.config;
  return configSchema;
}

export async function accountPage(main, id, on) {
  const base = `/api/accounts/${encodeURIComponent(id)}`;
  const [detail, schema] = await Promise.all([api('GET', base), loadConfigSchema()]);
  main.innerHTML = `
    <h1 id="title"></h1>
    <div class="cards" id="cards"></div>
    <div class="actions">
      <button id="pause"></button>
      <button class="danger" id="close-all">Close all positions</button>
      <span id="action-result"></span>
    </div>
    <h2>Open positions</h2>
    <table id="positions"><thead><tr><th>Symbol</th><th>Side</th><th class="num">Amount</th><th class="num">Entry</th><th class="num">Mark</th><th class="num">Unrealized PnL</th><th class="num">Stop-loss</th><th class="num">Take-profit</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Open orders</h2>
    <table id="pending"><thead><tr><th>Symbol</th><th>Purpose</th><th>Side</th><th class="num">Amount</th><th class="num">Stop-loss</th><th class="num">Take-profit</th><th>Placed</th></tr></thead><tbody></tbody></table>
    <h2>Equity</h2>
    <div class="panel" id="equity"></div>
    <div class="grid">
      <div>
        <h2>Config <span id="applied" class="muted"></span></h2>
        <form class="panel" id="config"></form>
      </div>
      <div>
        <h2>API key</h2>
        <form class="panel" id="key">
          <p>Fingerprint: <code id="fingerprint"></code></p>
          <label>API key <input name="apiKey" autocomplete="off" required /></label>
          <label>API secret <input name="apiSecret" type="password" autocomplete="off" required /></label>
          <div class="actions"><button type="submit">Save key</button></div>
          <div id="key-result"></div>
          <p class="muted">Write-only: the key is stored encrypted (a Secret in a cluster) and never sent back.</p>
        </form>
        <h2>Denials</h2>
        <div class="panel" id="denials"></div>
      </div>
    </div>
    <h2>Closed positions</h2><div id="closed"></div>
    <h2>Fills</h2><div id="fills"></div>
    <h2>Orders</h2><div id="orders"></div>`;

  let current = detail;
  const result = (el, ok, text) => (main.querySelector(el).innerHTML = `<span class="notice ${ok ? 'ok' : 'error'}">${esc(text)}</span>`);

  function drawStatus(d) {
    const s = d.summary;
    main.querySelector('#title').innerHTML =
      `${esc(s.displayName)} <span class="muted">${esc(s.id)}</span> <span class="badge ${esc(s.phase)}" id="phase">${esc(s.phase)}</span>`;
    main.querySelector('#cards').innerHTML =
      [
        ['Equity', fmt(s.equity)],
        ['Unrealized PnL', pnl(s.unrealizedPnl)],
        ['PnL today', pnl(s.pnlToday)],
        ['Open positions', s.openPositions ?? '–'],
        ['Exchange', esc(s.exchange)],
        ['Placement', s.pool ? esc(s.pool) : 'dedicated'],
      ]
        .map(([label, value]) => `<div class="card"><div class="label">${label}</div><div class="value">${value}</div></div>`)
        .join('') + (s.lastError || s.problem ? `<div class="notice error">${esc(s.problem ?? s.lastError)}</div>` : '');
    main.querySelector('#pause').textContent = s.paused ? 'Resume' : 'Pause';
    main.querySelector('#applied').textContent = d.configApplied ? '· applied' : '· waiting for the operator to apply it…';
    main.querySelector('#fingerprint').textContent = d.keyFingerprint ?? 'none yet';
    if (d.closeRequest && !d.closeRequest.done) result('#action-result', true, `Closing ${d.closeRequest.symbols.join(', ') || 'all positions'}…`);
    else if (d.closeRequest?.done && main.querySelector('#action-result').textContent.startsWith('Closing'))
      result('#action-result', true, 'Close request carried out.');
  }

  async function drawPositions() {
    const { positions, pendingOrders } = await api('GET', `${base}/positions`);
    main.querySelector('#positions tbody').innerHTML =
      positions
        .map(
          (p) => `<tr data-symbol="${esc(p.symbol)}"><td>${esc(p.symbol)}</td><td class="${p.side === 'long' ? 'up' : 'down'}">${p.side}</td>
          <td class="num">${fmt(p.amount, 6)}</td><td class="num">${fmt(p.entryPrice, 6)}</td><td class="num">${fmt(p.markPrice, 6)}</td>
          <td class="num">${pnl(p.unrealizedPnl)}</td><td class="num">${p.stopLoss ? fmt(p.stopLoss, 6) : '<span class="down">none</span>'}</td>
          <td class="num">${fmt(p.takeProfit, 6)}</td><td><button class="danger close-one" data-symbol="${esc(p.symbol)}">Close</button></td></tr>`,
        )
        .join('') || '<tr><td colspan="9" class="muted">No open position.</td></tr>';
    main.querySelector('#pending tbody').innerHTML =
      pendingOrders
        .map(
          (o) => `<tr><td>${esc(o.symbol)}</td><td>${esc(o.purpose)}</td><td>${o.side}</td><td class="num">${fmt(o.amount, 6)}</td>
          <td class="num">${fmt(o.stopLoss, 6)}</td><td class="num">${fmt(o.takeProfit, 6)}</td><td>${new Date(o.createdAt).toLocaleString()}</td></tr>`,
        )
        .join('') || '<tr><td colspan="7" class="muted">No open order.</td></tr>';
  }

  async function drawEquity() {
    const points = await api('GET', `${base}/equity?hours=168`);
    const el = main.querySelector('#equity');
    if (points.length < 2) return void (el.innerHTML = '<p class="muted">Not enough snapshots yet (one a minute).</p>');
    el.innerHTML = '';
    const xs = points.map((p) => Date.parse(p.at) / 1000);
    const data = [xs, points.map((p) => Number(p.equity)), points.map((p) => Number(p.walletBalance))];
    // uPlot: a small, fast time-series chart (global from /vendor/uplot).
    new window.uPlot(
      {
        width: Math.min(el.clientWidth - 20, 1240),
        height: 240,
        series: [{}, { label: 'Equity', stroke: '#58a6ff', width: 2 }, { label: 'Wallet', stroke: '#8a96a3' }],
        axes: [
          { stroke: '#8a96a3', grid: { stroke: '#2a323c' } },
          { stroke: '#8a96a3', grid: { stroke: '#2a323c' } },
        ],
      },
      data,
      el,
    );
  }

  function drawConfigForm(d) {
    const config = d.spec?.config ?? {};
    const form = main.querySelector('#config');
    const fields = Object.entries(schema.properties).map(([key, prop]) => field(key, prop, config[key]));
    form.innerHTML = `<label>Name <input name="displayName" value="${esc(d.spec?.displayName ?? '')}" /></label>${fields.join('')}
      <div class="actions"><button class="primary" type="submit">Save config</button></div><div id="config-result"></div>`;
  }

  async function drawDenials() {
    const d = await api('GET', `${base}/denials`);
    const today = Object.entries(d.today);
    main.querySelector('#denials').innerHTML = `
      <p>${today.length ? today.map(([r, n]) => `${esc(r)}: ${n}`).join(' · ') : '<span class="muted">None today.</span>'}</p>
      <table><tbody>${d.recent
        .slice(0, 10)
        .map(
          (x) =>
            `<tr><td>${esc(new Date(x.time).toLocaleTimeString())}</td><td>${esc(x.symbol)}</td><td>${esc(x.reason)}</td><td class="wrap muted">${esc(x.detail)}</td></tr>`,
        )
        .join('')}</tbody></table>`;
  }

  const pages = { closed: 1, fills: 1, orders: 1 };
  const tables = {
    closed: ['closed-positions', ['symbol', 'side', 'quantity', 'entry_price', 'exit_price', 'realized_pnl', 'fees', 'opened_at', 'closed_at']],
    fills: ['fills', ['traded_at', 'symbol', 'side', 'price', 'quantity', 'commission', 'realized_pnl', 'is_maker']],
    orders: ['orders', ['created_at', 'symbol', 'purpose', 'side', 'type', 'quantity', 'price', 'trigger_price', 'status', 'average_price', 'error']],
  };
  async function drawRecords(name) {
    const [path, columns] = tables[name];
    const r = await api('GET', `${base}/${path}?page=${pages[name]}&pageSize=10`);
    const last = Math.max(1, Math.ceil(r.total / r.pageSize));
    const cell = (k, v) => (k.endsWith('_at') && v ? esc(new Date(v).toLocaleString()) : k === 'realized_pnl' ? pnl(v) : esc(v ?? ''));
    main.querySelector(`#${name}`).innerHTML = `
      <table><thead><tr>${columns.map((c) => `<th>${c.replace(/_/g, ' ')}</th>`).join('')}</tr></thead>
      <tbody>${r.items.map((row) => `<tr>${columns.map((c) => `<td>${cell(c, row[c])}</td>`).join('')}</tr>`).join('') || `<tr><td class="muted" colspan="${columns.length}">None yet.</td></tr>`}</tbody></table>
      <div class="pager"><button data-page="${name}:-1" ${pages[name] <= 1 ? 'disabled' : ''}>‹</button>
      <span>page ${r.page} of ${last} (${r.total})</span><button data-page="${name}:1" ${pages[name] >= last ? 'disabled' : ''}>›</button></div>`;
  }

  drawStatus(current);
  drawConfigForm(current);
  await Promise.all([drawPositions(), drawEquity(), drawDenials(), ...Object.keys(tables).map(drawRecords)]);

  const refresh = async () => {
    current = await api('GET', base);
    drawStatus(current);
    await drawPositions();
  };
  on('account', (s) => s.id === id && void refresh().catch(() => undefined));
  on('config', (e) => e.id === id && void refresh().catch(() => undefined));

  main.addEventListener('click', async (e) => {
    const t = e.target;
    if (!(t instanceof HTMLButtonElement)) return;
    try {
      if (t.id === 'pause') {
        const r = await api('POST', `${base}/${current.summary.paused ? 'resume' : 'pause'}`);
        result('#action-result', true, r.message);
        await refresh();
      } else if (t.id === 'close-all' || t.classList.contains('close-one')) {
        const symbols = t.dataset.symbol ? [t.dataset.symbol] : [];
        if (!confirm(symbols.length ? `Close ${symbols[0]} at market now?` : 'Close all positions at market now?')) return;
        const r = await api('POST', `${base}/close`, { symbols });
        result('#action-result', true, r.message);
        await refresh();
      } else if (t.dataset.page) {
        const [name, step] = t.dataset.page.split(':');
        pages[name] += Number(step);
        await drawRecords(name);
      }
    } catch (err) {
      result('#action-result', false, err.message);
    }
  });

  main.querySelector('#config').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('PUT', `${base}/config`, { config: readConfig(e.target, schema), displayName: e.target.displayName.value || undefined });
      result('#config-result', true, r.message);
      await refresh();
    } catch (err) {
      result('#config-result', false, err.message);
    }
  });

  main.querySelector('#key').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const r = await api('PUT', `${base}/key`, { apiKey: f.get('apiKey'), apiSecret: f.get('apiSecret') });
      e.target.reset();
      main.querySelector('#fingerprint').textContent = r.fingerprint;
      result('#key-result', true, `Key saved (${r.fingerprint}); the trader restarts with it.`);
    } catch (err) {
      result('#key-result', false, err.message);
    }
  });
}

/** One form field for a config key, from its JSON schema. */
function field(key, prop, value) {
  const help = prop.description ? `<small>${esc(prop.description)}</small>` : '';
  const v = value ?? prop.default;
  if (prop.enum)
    return `<label>${key} <select name="${key}">${prop.enum.map((o) => `<option ${o === v ? 'selected' : ''}>${esc(o)}</option>`).join('')}</select>${help}</label>`;
  if (prop.type === 'boolean') return `<label>${key} <input type="checkbox" name="${key}" ${v ? 'checked' : ''} />${help}</label>`;
  if (prop.type === 'array') return `<label>${key} <input name="${key}" value="${esc((v ?? []).join(', '))}" placeholder="all" />${help}</label>`;
  if (prop.type === 'number' || prop.type === 'integer') {
    const bounds = `${prop.minimum !== undefined ? `min="${prop.minimum}"` : ''} ${prop.maximum !== undefined ? `max="${prop.maximum}"` : ''}`;
    return `<label>${key} <input type="number" step="any" name="${key}" value="${esc(v ?? '')}" ${bounds} />${help}</label>`;
  }
  const variants = prop.oneOf ?? prop.anyOf;
  if (variants) {
    // A discriminated union (sizing): the mode, and the one amount it needs.
    const modes = variants.map((s) => ({
      mode: s.properties.mode.const ?? s.properties.mode.enum?.[0],
      amount: Object.keys(s.properties).find((k) => k !== 'mode'),
    }));
    const chosen = v?.mode ?? modes[0].mode;
    const amountKey = modes.find((m) => m.mode === chosen)?.amount;
    return `<label>${key} <span><select name="${key}.mode">${modes.map((m) => `<option value="${m.mode}" data-amount="${m.amount}" ${m.mode === chosen ? 'selected' : ''}>${m.mode} (${m.amount})</option>`).join('')}</select>
      <input type="number" step="any" name="${key}.amount" value="${esc(v?.[amountKey] ?? '')}" /></span>${help}</label>`;
  }
  return `<label>${key} <input name="${key}" value="${esc(v ?? '')}" />${help}</label>`;
}

function readConfig(form, schema) {
  const config = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const variants = prop.oneOf ?? prop.anyOf;
    if (variants) {
      const select = form.elements[`${key}.mode`];
      const amount = form.elements[`${key}.amount`].value;
      if (amount !== '') config[key] = { mode: select.value, [select.selectedOptions[0].dataset.amount]: Number(amount) };
      continue;
    }
    const el = form.elements[key];
    if (!el) continue;
    if (prop.type === 'boolean') config[key] = el.checked;
    else if (prop.type === 'array')
      config[key] = el.value
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
    else if (el.value === '') continue;
    else if (prop.type === 'number' || prop.type === 'integer') config[key] = Number(el.value);
    else config[key] = el.value;
  }
  return config;
}
