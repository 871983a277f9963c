import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestRedis } from '../testing/services.js';
import { until } from '../testing/until.js';
import { redisKeys } from './redis-contract.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('a process started as every ats process is', () => {
  it('goes on when nobody reads its output any more (ats up killed), logs to the stream, and stops cleanly', { timeout: 30_000 }, async () => {
    const r = createTestRedis();
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'testing', 'orphaned-logger.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...r.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const exited = new Promise<number | string>((done) => proc.once('exit', (code, signal) => done(code ?? signal ?? -1)));
      let out = '';
      proc.stdout.on('data', (d) => (out += String(d)));
      await until(() => out.includes('"msg":"tick"'), 20_000, 50);
      // The reader goes away: every write of the child now fails with EPIPE.
      proc.stdout.destroy();
      proc.stderr.destroy();
      const stream = redisKeys.logs('warning');
      const before = await r.redis.xlen(stream);
      await new Promise((res) => setTimeout(res, 1_500));
      expect(proc.exitCode).toBeNull();
      // Its lines still reach the log stream.
      expect(await r.redis.xlen(stream)).toBeGreaterThan(before + 10);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      proc.kill('SIGKILL'); // a failed run leaves nothing running
      await r.cleanup();
    }
  });
});
