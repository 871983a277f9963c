import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { keyFingerprint, type KeyPair } from '../core/credentials/key-pair.js';
import type { LocalKeyStore } from '../core/credentials/local-key-store.js';
import { localAccountStatusSchema } from '../core/account-status.js';
import { AtsError } from '../core/errors.js';
import { readJson, redisKeys } from '../core/redis-contract.js';
import { accountManifest, ManifestFolder } from '../local/manifests.js';
import type { AccountBackend, AccountView } from './account-backend.js';

export interface LocalBackendOptions {
  /** The folders the local runtime reads manifests from (the same as its operator's). */
  readonly dirs: readonly string[];
  /** Where a new account's manifest goes (one of `dirs`). */
  readonly newAccountsDir: string;
  readonly keys: LocalKeyStore;
  readonly redis: Redis;
}

/**
 * The local runtime's accounts: manifests in folders (an edit rewrites the account's document in
 * its own file, keeping the file's other documents and comments) and the encrypted key store.
 * The local operator notices both, as it notices a person's edit.
 */
export class LocalBackend implements AccountBackend {
  readonly kind = 'local';
  readonly #folder: ManifestFolder;

  constructor(private readonly o: LocalBackendOptions) {
    if (!o.dirs.includes(o.newAccountsDir)) throw new Error('the folder for new accounts must be one the operator reads');
    this.#folder = new ManifestFolder(o.dirs);
  }

  async list(): Promise<AccountView[]> {
    const { accounts } = this.#folder.read();
    const ids = [...accounts.keys()].sort();
    const statuses = await Promise.all(ids.map((id) => readJson(this.o.redis, redisKeys.accountStatus(id), localAccountStatusSchema).catch(() => undefined)));
    return ids.map((id, i) => {
      const a = accounts.get(id)!;
      return { id, spec: a.object.spec, status: statuses[i] ?? undefined, ...(a.problem ? { problem: a.problem } : {}) };
    });
  }

  async get(id: string): Promise<AccountView | undefined> {
    return (await this.list()).find((a) => a.id === id);
  }

  async write(id: string, spec: Record<string, unknown>, opts: { create: boolean }): Promise<void> {
    const existing = this.#folder.read().accounts.get(id);
    if (opts.create) {
      if (existing) throw new AtsError('ATS_BAD_OPTION', `Account ${id} exists already (${existing.file}): choose another name.`);
      mkdirSync(this.o.newAccountsDir, { recursive: true });
      return atomicWrite(join(this.o.newAccountsDir, `${id}.yaml`), accountManifest(id, spec));
    }
    if (!existing) throw new AtsError('ATS_UNKNOWN_ACCOUNT', `No account ${id}.`);
    const text = existsSync(existing.file) ? readFileSync(existing.file, 'utf8') : '';
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) {
      throw new AtsError('ATS_CONFIG_INVALID', `${existing.file} does not parse as YAML: fix it by hand first.`);
    }
    const doc = docs.find((d) => d.getIn(['metadata', 'name']) === id);
    if (!doc) throw new AtsError('ATS_UNKNOWN_ACCOUNT', `Account ${id} is no longer in ${existing.file}.`);
    doc.set('spec', doc.createNode(spec));
    atomicWrite(existing.file, docs.map((d) => d.toString()).join(''));
  }

  async setKey(_id: string, secretName: string, pair: KeyPair): Promise<{ fingerprint: string }> {
    this.o.keys.put(secretName, pair);
    return { fingerprint: keyFingerprint(pair.apiKey) };
  }
}

function atomicWrite(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}
