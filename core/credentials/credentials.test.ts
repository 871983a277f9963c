import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalKeyStore } from './local-key-store.js';
import { resolveMasterKey } from './master-key.js';
import { readKeyPairDir } from './key-dir.js';
import { readTraderHandoff } from './key-stdin.js';
import { scrubSecrets } from '../secrets-scrub.js';
import { tempDir as testTempDir } from '../../testing/temp.js';

const pair = { apiKey: 'AKIA-test-key-0001', apiSecret: 'sEcReT-value-0001-xyz' };
const tempDir = () => testTempDir('ats-cred');

describe('local key store', () => {
  it('round-trips a key pair and stores no plain text', () => {
    const dir = tempDir();
    const store = new LocalKeyStore(join(dir, 'keys'), 'master-key-for-tests-1');
    const { fingerprint } = store.put('alice', pair);
    expect(store.get('alice')).toEqual(pair);
    expect(fingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
    const raw = readFileSync(join(dir, 'keys', 'alice.json'), 'utf8');
    expect(raw).not.toContain(pair.apiKey);
    expect(raw).not.toContain(pair.apiSecret);
    expect(statSync(join(dir, 'keys', 'alice.json')).mode & 0o777).toBe(0o600);
    expect(store.list()).toEqual(['alice']);
  });

  it('rejects a wrong master key with a clear message instead of returning garbage', () => {
    const dir = join(tempDir(), 'keys');
    new LocalKeyStore(dir, 'master-key-for-tests-1').put('alice', pair);
    const wrong = new LocalKeyStore(dir, 'another-master-key-2');
    expect(() => wrong.get('alice')).toThrow(/master key is not the one it was stored with/);
  });

  it('does not decrypt a record copied under another account name', () => {
    const dir = join(tempDir(), 'keys');
    const store = new LocalKeyStore(dir, 'master-key-for-tests-1');
    store.put('alice', pair);
    const record = JSON.parse(readFileSync(join(dir, 'alice.json'), 'utf8'));
    writeFileSync(join(dir, 'bob.json'), JSON.stringify({ ...record, accountId: 'bob' }));
    expect(() => store.get('bob')).toThrow(/Cannot decrypt/);
  });

  it('names the command to run when no key pair is stored', () => {
    const store = new LocalKeyStore(join(tempDir(), 'keys'), 'master-key-for-tests-1');
    expect(() => store.get('carol')).toThrow(/ats keys set --account carol/);
  });

  it('creates a 0600 master key file on first use and reuses it', () => {
    const dir = tempDir();
    const first = resolveMasterKey({ stateDir: dir });
    expect(resolveMasterKey({ stateDir: dir })).toBe(first);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['master.key']);
  });
});

describe('credentials directory', () => {
  it('reads apiKey and apiSecret files as a mounted Secret lays them out', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'apiKey'), `${pair.apiKey}\n`);
    writeFileSync(join(dir, 'apiSecret'), pair.apiSecret);
    expect(await readKeyPairDir(dir)).toEqual(pair);
  });

  it('names the missing file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'apiKey'), pair.apiKey);
    await expect(readKeyPairDir(dir)).rejects.toThrow(/Cannot read apiSecret/);
  });
});

describe('key pair on standard input', () => {
  const stream = (text: string) => Readable.from([Buffer.from(text)]);

  it('reads one pair and never echoes what it could not read', async () => {
    expect(await readTraderHandoff(stream(JSON.stringify(pair)))).toEqual({ pair });
    const logins = { databaseUrl: 'postgres://ats_trader_1:pw1secret@127.0.0.1/ats', redisUrl: 'redis://ats-trader-1:pw2secret@127.0.0.1:6379' };
    expect(await readTraderHandoff(stream(JSON.stringify({ ...pair, ...logins })))).toEqual({ pair, ...logins });
    // The passwords are secrets from then on: no log line can print them.
    expect(scrubSecrets('auth pw1secret pw2secret')).toBe('auth [REDACTED] [REDACTED]');
    const bad = `apiKey=${pair.apiKey}`;
    const err = await readTraderHandoff(stream(bad)).catch((e: Error) => e);
    expect((err as Error).message).toBe('the key pair on standard input is not JSON ({"apiKey":…,"apiSecret":…})');
  });

  it('gives up when nothing arrives', async () => {
    const silent = new Readable({ read: () => undefined });
    await expect(readTraderHandoff(silent, 200)).rejects.toThrow('no key pair arrived on standard input within 0.2 s (--credentials-stdin)');
  });
});
