import { describe, expect, it } from 'vitest';
import { freePort } from '../core/db/embedded.js';
import { spawnAts } from '../testing/processes.js';
import { until } from '../testing/until.js';

describe('ats sim --admin-port (as the chart runs it)', () => {
  it('serves the admin API on a loopback port of its own, and not on the exchange port', { timeout: 60_000 }, async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const sim = spawnAts(['sim', '--generate', '--host', '0.0.0.0', '--port', String(port), '--admin-port', String(adminPort)], {});
    await until(() => sim.output.join('').includes('simulator listening'), 30_000);
    const exchange = `http://127.0.0.1:${port}`;
    const admin = `http://127.0.0.1:${adminPort}`;

    expect((await fetch(`${exchange}/fapi/v1/ping`)).status).toBe(200);
    const refused = await fetch(`${exchange}/_sim/accounts`, { method: 'POST', body: JSON.stringify({ apiKey: 'k'.repeat(16), apiSecret: 's'.repeat(16) }) });
    expect(refused.status).toBe(404);

    const created = await fetch(`${admin}/_sim/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'alice', apiKey: 'k'.repeat(16), apiSecret: 's'.repeat(16) }),
    });
    expect(created.status).toBe(200);
    expect(((await (await fetch(`${admin}/_sim/accounts`)).json()) as Array<{ id: string }>).map((a) => a.id)).toEqual(['alice']);
    expect((await fetch(`${admin}/fapi/v1/ping`)).status).toBe(404);
    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
  });
});
