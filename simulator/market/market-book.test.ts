import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { defaultDataDir, Simulator } from '../server.js';
import { generateBars, HOUR, klineFile, readKlineCsv } from './bars.js';
import { MarketBook } from './market-book.js';
import { SimClock } from './sim-clock.js';

describe('simulator prices', () => {
  it('replays the real Binance klines (../shared/data when present, else the sample the repository carries)', () => {
    const dir = defaultDataDir();
    expect(dir, 'real klines should be found').toBeDefined();
    const bars = readKlineCsv(klineFile(join(dir!, 'futures-klines-1h'), 'BTCUSDT')!);
    const sim = new Simulator({ speed: 0, historyBars: 100 });
    expect(sim.source).toBe('replay');
    const candles = sim.engine.book.klines('BTCUSDT', '1h', { limit: 5, endTime: bars[99]!.openTime - 1 });
    expect(candles.map((c) => [c.openTime, c.open, c.high, c.low, c.close])).toEqual(
      bars.slice(94, 99).map((b) => [b.openTime, b.open, b.high, b.low, b.close]),
    );
  });

  it('walks through the high and low inside a bar and ends at the close', () => {
    const bars = generateBars('ETHUSDT', 7, 3, 0);
    const clock = new SimClock(0, 0);
    const book = new MarketBook(new Map([['ETHUSDT', bars]]), clock);
    clock.advance(3 * HOUR);
    const path = Array.from({ length: 3601 }, (_, i) => book.price('ETHUSDT', HOUR + i * 1_000));
    const bar = bars[1]!;
    expect(Math.max(...path)).toBeLessThanOrEqual(bar.high + 1e-9);
    expect(Math.max(...path)).toBeGreaterThan(bar.high - (bar.high - bar.low) * 0.01);
    expect(Math.min(...path)).toBeGreaterThanOrEqual(bar.low - 1e-9);
    expect(book.ohlcv('ETHUSDT', HOUR, 2 * HOUR - 1)).toMatchObject({ high: bar.high, low: bar.low });
    expect(book.price('ETHUSDT', HOUR)).toBeCloseTo(bar.open, 6);
    expect(book.price('ETHUSDT', 2 * HOUR - 1)).toBeCloseTo(bar.close, 6);
  });

  it('gives the same prices for the same seed, and different ones for another seed', () => {
    const run = (seed: number) => {
      const sim = new Simulator({ speed: 0, dataDir: null, seed });
      // Closed bars only: the forming one depends on the millisecond the simulator started.
      return sim.engine.book
        .klines('SOLUSDT', '1h', { limit: 50 })
        .slice(0, -1)
        .map((k) => [k.open, k.high, k.low, k.close]);
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });

  it('moves market time at the chosen speed and keeps history when a price is moved', () => {
    let wall = 1_000_000;
    const clock = new SimClock(0, 3600, () => wall);
    const book = new MarketBook(new Map([['BTCUSDT', generateBars('BTCUSDT', 1, 10, 0)]]), clock);
    wall += 1_000;
    expect(clock.now()).toBe(HOUR);
    const before = book.price('BTCUSDT', HOUR / 2);
    book.setPrice('BTCUSDT', 12_345);
    expect(book.price('BTCUSDT')).toBeCloseTo(12_345, 6);
    expect(book.price('BTCUSDT', HOUR / 2)).toBe(before);
  });
});
