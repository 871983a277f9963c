import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/temp.js';
import { openDatabase } from './open.js';
import { migrateToLatest } from './migrate.js';

describe('embedded Postgres (no DATABASE_URL)', () => {
  it('starts a real server under the state folder and keeps records across restarts', async () => {
    const stateDir = tempDir('ats-state');
    const first = await openDatabase({ ATS_STATE_DIR: stateDir });
    try {
      expect(first.url).toMatch(/^postgres:\/\/ats:[^@]+@127\.0\.0\.1:\d+\/ats$/);
      await migrateToLatest(first.db);
      await first.db.insertInto('accounts').values({ id: 'kept', name: 'Kept', exchange: 'sim' }).execute();
    } finally {
      await first.close();
    }
    const second = await openDatabase({ ATS_STATE_DIR: stateDir });
    try {
      const rows = await second.db.selectFrom('accounts').select('id').execute();
      expect(rows.map((r) => r.id)).toEqual(['kept']);
    } finally {
      await second.close();
    }
  });

  it.runIf(process.getuid?.() === 0)('as root, says which folder the postgres user cannot enter instead of hanging', async () => {
    const closed = tempDir('ats-closed'); // mode 0700, like /root
    await expect(openDatabase({ ATS_STATE_DIR: join(closed, 'state') })).rejects.toThrow(new RegExp(`cannot enter ${closed} \\(mode 700\\).*DATABASE_URL`));
  });
});
