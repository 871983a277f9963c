import { statSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS } from '../defaults.js';
import { Simulator } from '../server.js';
import { HOUR, klineFile, readKlineCsv } from './bars.js';
import { loadSymbols } from './symbols.js';

const sample = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'data');

describe('the sample of real market data a fresh clone carries', () => {
  it('holds 90 days of hourly klines for every default symbol on one timeline, well under 1 MB', () => {
    const files = readdirSync(join(sample, 'futures-klines-1h')).map((f) => join(sample, 'futures-klines-1h', f));
    const bytes = [...files, join(sample, 'binance-json', 'fapi-v1-exchangeInfo.json')].reduce((s, f) => s + statSync(f).size, 0);
    expect(bytes).toBeLessThan(512 * 1024);
    const timelines = DEFAULT_SYMBOLS.map((symbol) => readKlineCsv(klineFile(join(sample, 'futures-klines-1h'), symbol)!));
    for (const bars of timelines) {
      expect(bars).toHaveLength(90 * 24);
      expect(bars.every((b, i) => i === 0 || b.openTime - bars[i - 1]!.openTime === HOUR)).toBe(true);
      expect(bars[0]!.openTime).toBe(timelines[0]![0]!.openTime);
    }
  });

  it("gives the simulator Binance's real filters and replays the sample when pointed at it", () => {
    const specs = loadSymbols(DEFAULT_SYMBOLS, join(sample, 'binance-json', 'fapi-v1-exchangeInfo.json'));
    expect(specs.get('BTCUSDT')).toMatchObject({ tickSize: 0.1, stepSize: 0.001 });
    const sim = new Simulator({ speed: 0, historyBars: 300, dataDir: join(sample, 'futures-klines-1h') });
    expect(sim.source).toBe('replay');
  });
});
