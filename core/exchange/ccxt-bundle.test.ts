import { execSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSimulator, type TestSimulator } from '../../testing/simulator.js';
import { CCXT_BUNDLE } from './ccxt-bundle-path.js';
import type * as CcxtBinanceModule from './ccxt-binance.js';
import type * as BinanceClientModule from './binance-client.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', CCXT_BUNDLE);
const BTC = 'BTC/USDT:USDT';
const built = async <T>(file: string) => (await import(pathToFileURL(join(ROOT, 'dist', file)).href)) as T;

/**
 * The built program (dist/, what the image and `npx ats` run) loads ccxt from the bundle that
 * `npm run build` makes; the tests from the sources use the package. This runs the built client.
 */
describe("the built program's ccxt bundle", () => {
  let t: TestSimulator;
  beforeAll(async () => {
    if (!existsSync(BUNDLE)) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
    t = await startTestSimulator();
  }, 120_000);
  afterAll(async () => t?.close());

  it('is what the built program loads, and trades with the simulator over REST and the user data stream', async () => {
    const { ccxtSource, ccxtErrors } = await built<typeof CcxtBinanceModule>('core/exchange/ccxt-binance.js');
    const { createBinanceClient } = await built<typeof BinanceClientModule>('core/exchange/binance-client.js');
    expect(ccxtSource).toBe('bundle');
    const account = t.account(10_000);
    const ex = await createBinanceClient({ restUrl: t.url, wsUrl: t.wsUrl, apiKey: account.apiKey, apiSecret: account.apiSecret });
    try {
      await ex.loadMarkets();
      const orders = ex.watchOrders(BTC);
      await new Promise((r) => setTimeout(r, 300));
      await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'bundle-entry-1' });
      expect((await orders).some((o) => o.clientOrderId === 'bundle-entry-1')).toBe(true);
      expect((await ex.fetchPositions([BTC])).find((p) => p.symbol === BTC)?.contracts).toBe(0.01);
      // Binance's codes map to the bundle's own error classes (what the trader's `instanceof` sees).
      const refused = await ex.createOrder(BTC, 'market', 'buy', 20).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ccxtErrors.InsufficientFunds);
    } finally {
      await ex.close();
    }
  });

  it('is minified ASCII (V8 keeps a one-byte source), with its HTTP client loaded from a path that exists', () => {
    const dir = dirname(BUNDLE);
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    for (const file of files) expect(readFileSync(join(dir, file), 'utf8')).not.toMatch(/[^\t\n\r\x20-\x7e]/);
    const main = readFileSync(BUNDLE, 'utf8');
    expect(main.split('\n').length).toBeLessThan(100);
    const undici = main.match(/import\("(\.[^"]*undici[^"]*)"\)/)?.[1];
    expect(undici).toBeDefined();
    expect(existsSync(resolve(dir, undici!))).toBe(true);
  });
});
