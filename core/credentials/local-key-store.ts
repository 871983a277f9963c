import { createHash, createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadEnv, type Env } from '../env.js';
import { AtsError } from '../errors.js';
import { resolveMasterKey } from './master-key.js';
import { acceptKeyPair, keyFingerprint, type KeyPair } from './key-pair.js';

const recordSchema = z.object({
  version: z.literal(1),
  accountId: z.string(),
  fingerprint: z.string(),
  salt: z.string(),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
});

const ACCOUNT_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Key pairs of the local runtime, encrypted at rest with AES-256-GCM under a key derived (scrypt)
 * from the master key. The account id is bound in as associated data, so a record copied to
 * another account's name does not decrypt. Nothing in a record reveals the key.
 */
export class LocalKeyStore {
  readonly #dir: string;
  readonly #masterKey: string;

  constructor(dir: string, masterKey: string) {
    this.#dir = dir;
    this.#masterKey = masterKey;
  }

  put(accountId: string, pair: KeyPair): { fingerprint: string } {
    assertAccountId(accountId);
    const clean = acceptKeyPair(pair, `the key pair for account ${accountId}`);
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#derive(salt), iv);
    cipher.setAAD(Buffer.from(aad(accountId)));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(clean), 'utf8'), cipher.final()]);
    const record = {
      version: 1 as const,
      accountId,
      fingerprint: keyFingerprint(clean.apiKey),
      salt: salt.toString('base64'),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const file = this.#file(accountId);
    writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    return { fingerprint: record.fingerprint };
  }

  get(accountId: string): KeyPair {
    const record = this.#read(accountId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#derive(Buffer.from(record.salt, 'base64')), Buffer.from(record.iv, 'base64'));
      decipher.setAAD(Buffer.from(aad(accountId)));
      decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(record.ciphertext, 'base64')), decipher.final()]);
      return acceptKeyPair(JSON.parse(plain.toString('utf8')), `the key store (${accountId})`);
    } catch (err) {
      throw new AtsError(
        'ATS_MASTER_KEY_WRONG',
        `Cannot decrypt the key pair of account ${accountId}: the master key is not the one it was stored with. ` +
          'Start with the original ATS_MASTER_KEY (or master.key file), or store the key pair again with `ats keys set`.',
        { cause: err },
      );
    }
  }

  has(accountId: string): boolean {
    return existsSync(this.#file(accountId));
  }

  /** Identifies the API key (a hash of it): the same key under two names has the same fingerprint. */
  fingerprint(accountId: string): string {
    return this.#read(accountId).fingerprint;
  }

  /** Changes whenever the pair is stored again (a rotated secret with the same API key too), never revealing either. */
  version(accountId: string): string {
    return createHash('sha256').update(this.#read(accountId).ciphertext).digest('hex').slice(0, 16);
  }

  list(): string[] {
    if (!existsSync(this.#dir)) return [];
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  }

  remove(accountId: string): void {
    assertAccountId(accountId);
    if (!existsSync(this.#file(accountId))) {
      const known = this.list();
      throw new AtsError('ATS_CREDENTIALS_MISSING', `No key pair stored for account ${accountId}${known.length ? ` (stored: ${known.join(', ')})` : ''}.`);
    }
    rmSync(this.#file(accountId), { force: true });
  }

  #read(accountId: string) {
    assertAccountId(accountId);
    const file = this.#file(accountId);
    if (!existsSync(file)) {
      throw new AtsError('ATS_CREDENTIALS_MISSING', `No key pair stored for account ${accountId}. Store one with \`ats keys set --account ${accountId}\`.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      json = undefined;
    }
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success || parsed.data.accountId !== accountId) {
      throw new AtsError('ATS_CREDENTIALS_INVALID', `The key store file ${file} is damaged or belongs to another account; store the key pair again.`);
    }
    return parsed.data;
  }

  #file(accountId: string) {
    return join(this.#dir, `${accountId}.json`);
  }

  #derive(salt: Buffer): Buffer {
    return scryptSync(this.#masterKey, salt, 32);
  }
}

const aad = (accountId: string) => `ats:key-pair:${accountId}`;

function assertAccountId(accountId: string): void {
  if (!ACCOUNT_ID.test(accountId)) {
    throw new AtsError(
      'ATS_ACCOUNT_ID_INVALID',
      `Invalid account id "${accountId}": use lowercase letters, digits and dashes (a Kubernetes name), at most 63 characters.`,
    );
  }
}

/** The key store of the state folder (`ATS_STATE_DIR/keys`), with the master key the environment gives. */
export const localKeyStore = (env: Pick<Env, 'ATS_STATE_DIR' | 'ATS_MASTER_KEY'> = loadEnv()): LocalKeyStore =>
  new LocalKeyStore(join(env.ATS_STATE_DIR, 'keys'), resolveMasterKey({ masterKey: env.ATS_MASTER_KEY, stateDir: env.ATS_STATE_DIR }));
