import { describe, expect, it } from 'vitest';
import { freePort } from '../core/db/embedded.js';
import { spawnAts } from '../testing/processes.js';
import { createTestRedis } from '../testing/services.js';
import { START_DATABASE_GRACE_MS } from '../core/db/migrate.js';

/**
 * A process whose start fails exits non-zero, so that its supervisor restarts it. Postgres gets a
 * grace (START_DATABASE_GRACE_MS): open positions are protected first, records wait meanwhile.
 */
describe('a trader that cannot start', () => {
  it('exits with code 1 and one line when its database still refuses connections after the grace', { timeout: 40_000 }, async () => {
    const r = createTestRedis();
    try {
      const port = await freePort(); // nothing listens there
      const started = Date.now();
      const p = spawnAts(['trader', '--account', 'nodb', '--exchange', 'http://127.0.0.1:9', '--port', '0'], {
        ...r.env,
        DATABASE_URL: `postgres://ats:secret-password@127.0.0.1:${port}/ats`,
      });
      expect(await p.exited).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(START_DATABASE_GRACE_MS - 1_000);
      expect(Date.now() - started).toBeLessThan(START_DATABASE_GRACE_MS + 10_000);
      const output = p.output.join('');
      expect(output).toMatch(/ats: Cannot reach the database \(.*(ECONNREFUSED|connect).*\): check DATABASE_URL and that Postgres runs\./);
      expect(output).not.toContain('secret-password');
    } finally {
      await r.cleanup();
    }
  });
});
