import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchOnce, formatTable, poolProjection, projection } from './bench.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('benchmark script (small run, so it cannot rot; no timing is asserted)', () => {
  it('runs two accounts end to end and prints its table and projection', { timeout: 180_000 }, async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
    const row = await benchOnce(2, 2);
    expect(row.reacted).toBe(2);
    expect([row.sent429, row.sent418]).toEqual([0, 0]);
    expect(row.traderRssMedian).toBeGreaterThan(0);
    const table = formatTable([row]);
    expect(table.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(3);
    expect(table).toMatch(/^\| 2 \| /m);
    expect(projection([row])).toMatch(/Fits: about \d+ accounts\./);
  });

  it('runs three pooled accounts in two pools and prints their row and the pooled projection', { timeout: 180_000 }, async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
    const row = await benchOnce(3, 2, { pooled: true, poolSize: 2 });
    expect(row.processes).toBe(2);
    expect(row.reacted).toBe(3);
    expect(row.unprotected).toBe(0);
    expect(formatTable([row])).toMatch(/^\| 3 \| pooled \(2\/pool\) \(2\) \| /m);
    expect(poolProjection([row])).toMatch(/Fits: about \d+\./);
  });
});
