import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tradingAccountSpecSchema, type TradingAccountSpec } from '../operator/spec.js';
import { DEFAULT_SYMBOLS } from '../simulator/defaults.js';
import { accountManifest } from './manifests.js';

/** The name of the i-th generated demo account (1-based): demo-0001, demo-0002, … */
export const demoAccountName = (i: number) => `demo-${String(i).padStart(4, '0')}`;

/**
 * `ats up --demo-accounts N`: N TradingAccount manifests with varied configs, written afresh into
 * `dir` (one file each; what an earlier run generated there is removed first). The same N always
 * gives the same accounts. Every spec is checked against the CRD's schema before it is written.
 */
export function writeDemoAccounts(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const old of readdirSync(dir).filter((f) => /^demo-\d+\.yaml$/.test(f))) rmSync(join(dir, old));
  const names: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const name = demoAccountName(i);
    const spec = tradingAccountSpecSchema.parse(demoSpec(name, i));
    writeFileSync(join(dir, `${name}.yaml`), accountManifest(name, spec), { mode: 0o600 });
    names.push(name);
  }
  return names;
}

/** A config that differs from its neighbours' in every setting, drawn from the account's number. */
function demoSpec(name: string, i: number): Record<string, unknown> {
  const pick = <T>(xs: readonly T[], salt: number): T => xs[hash(i, salt) % xs.length]!;
  const sizing = pick([true, false], 1)
    ? { mode: 'fixed' as const, usdt: pick([20, 40, 60, 100], 2) }
    : { mode: 'equity' as const, percent: pick([2, 5, 8], 3) };
  const subset = pick([0, 2, 3], 4);
  const config: Partial<TradingAccountSpec['config']> & Record<string, unknown> = {
    minScore: pick([0, 0.2, 0.3, 0.4, 0.5], 5),
    maxOpenPositions: pick([1, 2, 3, 5], 6),
    sizing,
    leverage: pick([1, 2, 3, 5, 10], 7),
    marginMode: pick(['isolated', 'cross'], 8),
    entryType: pick(['market', 'market', 'limit'], 9),
    dailyLossLimitPercent: pick([3, 5, 10, 15], 10),
    ...(subset > 0 ? { symbols: DEFAULT_SYMBOLS.filter((_, k) => (k + i) % subset === 0) } : {}),
  };
  return { displayName: `Demo ${i}`, exchange: 'simulator', secretRef: { name: `${name}-binance` }, config };
}

/** A small integer hash (FNV-1a over the number and a salt): varied, and the same on every run. */
function hash(i: number, salt: number): number {
  let h = 0x811c9dc5;
  for (const byte of [i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, salt]) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
