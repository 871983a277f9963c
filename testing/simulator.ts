import { randomBytes } from 'node:crypto';
import { Simulator, type SimulatorOptions } from '../simulator/server.js';
import { createBinanceClient, type BinanceClient } from '../core/exchange/binance-client.js';

export interface TestAccount {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

export interface TestSimulator {
  readonly sim: Simulator;
  readonly url: string;
  readonly wsUrl: string;
  account(balance?: number): TestAccount;
  client(account?: TestAccount): Promise<BinanceClient>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** A simulator on a free loopback port (frozen market time unless told otherwise). */
export async function startTestSimulator(opts: SimulatorOptions = {}): Promise<TestSimulator> {
  const sim = new Simulator({ speed: 0, ...opts });
  const { url, wsUrl } = await sim.listen(0);
  const clients: BinanceClient[] = [];
  let n = 0;
  return {
    sim,
    url,
    wsUrl,
    account(balance = 10_000) {
      n += 1;
      const account = { id: `acct${n}`, apiKey: `key${n}${randomBytes(12).toString('hex')}`, apiSecret: `sec${n}${randomBytes(24).toString('hex')}` };
      sim.createAccount({ ...account, balance });
      return account;
    },
    async client(account) {
      const c = await createBinanceClient({ restUrl: url, wsUrl, apiKey: account?.apiKey, apiSecret: account?.apiSecret });
      clients.push(c);
      return c;
    },
    async admin(method, path, body) {
      const res = await fetch(`${url}/_sim${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await sim.close();
    },
  };
}
