import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tradingAccountSpecSchema } from '../operator/spec.js';
import { tempDir } from '../testing/temp.js';
import { writeDemoAccounts } from './demo-accounts.js';
import { ManifestFolder } from './manifests.js';

describe('generated demo accounts (ats up --demo-accounts N)', () => {
  it('writes N valid manifests with varied configs, the same ones on every run, and replaces an earlier set', () => {
    const dir = tempDir('demo');
    const names = writeDemoAccounts(dir, 40);
    expect(names).toHaveLength(40);
    expect(names[0]).toBe('demo-0001');
    const specs = names.map((n) => tradingAccountSpecSchema.parse(parse(readFileSync(join(dir, `${n}.yaml`), 'utf8')).spec));
    for (const key of ['minScore', 'maxOpenPositions', 'leverage', 'marginMode', 'entryType', 'dailyLossLimitPercent'] as const)
      expect(new Set(specs.map((s) => JSON.stringify(s.config[key]))).size, key).toBeGreaterThan(1);
    expect(new Set(specs.map((s) => s.config.sizing?.mode))).toEqual(new Set(['fixed', 'equity']));
    expect(new Set(specs.map((s) => s.secretRef.name)).size).toBe(40);

    const again = tempDir('demo');
    writeDemoAccounts(again, 40);
    expect(readFileSync(join(again, 'demo-0017.yaml'), 'utf8')).toBe(readFileSync(join(dir, 'demo-0017.yaml'), 'utf8'));

    writeFileSync(join(dir, 'mine.yaml'), 'not generated');
    writeDemoAccounts(dir, 3);
    expect(readdirSync(dir).sort()).toEqual(['demo-0001.yaml', 'demo-0002.yaml', 'demo-0003.yaml', 'mine.yaml']);
  });

  it('run beside a folder of manifests: one ManifestFolder reads both, and a name in both is an error', () => {
    const [mine, demo] = [tempDir('mine'), tempDir('demo')];
    writeDemoAccounts(demo, 2);
    writeFileSync(join(mine, 'alice.yaml'), readFileSync('examples/alice.yaml', 'utf8'));
    writeFileSync(join(mine, 'copy.yaml'), readFileSync(join(demo, 'demo-0002.yaml'), 'utf8'));
    const { accounts, problems } = new ManifestFolder([mine, demo]).read();
    expect([...accounts.keys()].sort()).toEqual(['alice', 'demo-0001', 'demo-0002']);
    expect(accounts.get('demo-0002')!.file).toBe(join(mine, 'copy.yaml'));
    expect(problems).toEqual([expect.stringContaining(`metadata.name demo-0002 is already defined in ${join(mine, 'copy.yaml')}`)]);
  });
});
