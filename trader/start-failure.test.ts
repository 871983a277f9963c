import { describe, expect, it } from 'vitest';
import { freePort } from '../core/db/embedded.js';
import { spawnAts } from '../testing/processes.js';
import { createTestRedis } from '../testing/services.js';

/** A process whose start fails exits non-zero at once, so that its supervisor restarts it. */
describe('a trader that cannot start', () => {
  it('exits with code 1 and one line when its database refuses connections', { timeout: 30_000 }, async () => {
    const r = createTestRedis();
    try {
      const port = await freePort(); // nothing listens there
      const started = Date.now();
      const p = spawnAts(['trader', '--account', 'nodb', '--exchange', 'http://127.0.0.1:9', '--port', '0'], {
        ...r.env,
        DATABASE_URL: `postgres://ats:secret-password@127.0.0.1:${port}/ats`,
      });
      expect(await p.exited).toBe(1);
      expect(Date.now() - started).toBeLessThan(20_000);
      const output = p.output.join('');
      expect(output).toMatch(/ECONNREFUSED|connect/);
      expect(output).not.toContain('secret-password');
    } finally {
      await r.cleanup();
    }
  });
});
