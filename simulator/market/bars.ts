import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** One source bar; prices inside it follow a path through its open, high, low and close. */
export interface Bar {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export const HOUR = 3_600_000;

/** Reads Binance kline CSVs (`open_time,open,high,low,close,volume,close_time`), plain or `.gz`. */
export function readKlineCsv(file: string): Bar[] {
  const raw = readFileSync(file);
  const lines = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').trim().split('\n');
  const header = lines[0]?.split(',') ?? [];
  if (header[0] !== 'open_time' || header[4] !== 'close') {
    throw new Error(`${file}: expected the columns open_time,open,high,low,close,volume,close_time`);
  }
  return lines.slice(1).map((line) => {
    const [t, o, h, l, c, v] = line.split(',');
    return { openTime: Number(t), open: Number(o), high: Number(h), low: Number(l), close: Number(c), volume: Number(v) };
  });
}

/** The kline file of a symbol in a folder (`<SYMBOL>-1h.csv` or `<SYMBOL>-1h.csv.gz`), if there is one. */
export function klineFile(dir: string, symbol: string): string | undefined {
  return [`${symbol}-1h.csv`, `${symbol}-1h.csv.gz`].map((name) => join(dir, name)).find((file) => existsSync(file));
}

/** The klines of each symbol that has a file in `dir`. */
export function readReplayDir(dir: string, symbols: readonly string[]): Map<string, Bar[]> {
  const out = new Map<string, Bar[]>();
  for (const symbol of symbols) {
    const file = klineFile(dir, symbol);
    if (file) out.set(symbol, readKlineCsv(file));
  }
  return out;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const START_PRICES: Record<string, number> = {
  BTCUSDT: 60000,
  ETHUSDT: 3000,
  BNBUSDT: 550,
  SOLUSDT: 150,
  XRPUSDT: 0.55,
  DOGEUSDT: 0.15,
};

/**
 * Hourly bars from a seeded random walk with regimes (trend and volatility change now and then),
 * so strategies see trends as well as noise. Same seed and symbol → same bars.
 */
export function generateBars(symbol: string, seed: number, count: number, firstOpenTime: number): Bar[] {
  const rand = seededRandom(seed ^ hash(symbol));
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  let price = START_PRICES[symbol] ?? 10;
  let drift = 0;
  let vol = 0.006;
  const bars: Bar[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 48 === 0) {
      drift = (rand() - 0.5) * 0.003;
      vol = 0.003 + rand() * 0.008;
    }
    const open = price;
    const close = open * Math.exp(drift + vol * gauss());
    const high = Math.max(open, close) * (1 + Math.abs(gauss()) * vol * 0.5);
    const low = Math.min(open, close) * (1 - Math.abs(gauss()) * vol * 0.5);
    bars.push({ openTime: firstOpenTime + i * HOUR, open, high, low, close, volume: 1000 * (0.5 + rand()) });
    price = close;
  }
  return bars;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
