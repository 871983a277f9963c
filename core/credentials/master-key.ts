import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AtsError } from '../errors.js';
import { registerSecret } from '../secrets-scrub.js';

export const masterKeyPath = (stateDir: string) => join(stateDir, 'master.key');

/**
 * The master key that encrypts local key pairs: `ATS_MASTER_KEY` when set, otherwise a random key
 * in `<state>/master.key`, created on first use with mode 0600.
 */
export function resolveMasterKey(opts: { masterKey?: string; stateDir: string }): string {
  if (opts.masterKey) {
    registerSecret(opts.masterKey);
    return opts.masterKey;
  }
  const file = masterKeyPath(opts.stateDir);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) chmodSync(file, 0o600);
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 16) {
    throw new AtsError('ATS_MASTER_KEY_INVALID', `The master key file ${file} is too short; delete it only if no key pairs were stored with it.`);
  }
  registerSecret(key);
  return key;
}
