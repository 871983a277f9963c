import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('environment', () => {
  it('has working defaults on a developer machine', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ LOG_LEVEL: 'info', ATS_STATE_DIR: '.ats', REDIS_KEY_PREFIX: '' });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('fails fast on a bad REDIS_URL, naming the variable and what it expects', () => {
    expect(() => loadEnv({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL: expected a Redis URL \(redis:\/\/…/);
  });

  it('never echoes a value that may hold credentials', () => {
    const attempt = () => loadEnv({ DATABASE_URL: 'mysql://user:hunter2-secret@db/x', ATS_MASTER_KEY: 'short' });
    expect(attempt).toThrow(/DATABASE_URL/);
    expect(attempt).toThrow(/ATS_MASTER_KEY: expected at least 16 characters/);
    try {
      attempt();
    } catch (err) {
      expect(String(err)).not.toContain('hunter2-secret');
      expect(String(err)).not.toContain('short');
    }
  });
});
