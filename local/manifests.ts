import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { GROUP, KIND, VERSION, type AccountObject } from '../operator/spec.js';

export interface ManifestAccount {
  readonly object: AccountObject;
  readonly file: string;
  /**
   * Set when the account's file can no longer be read (a YAML error, a file too large): the
   * object is the last one read from it, which keeps running, and this says why the change is refused.
   */
  readonly problem?: string;
}

/** A TradingAccount manifest's YAML, as a user writes one for `kubectl apply` or `ats up`. */
export function accountManifest(name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name }, spec });
}

/** A manifest larger than this is refused (TradingAccounts are a few hundred bytes). */
export const MAX_MANIFEST_BYTES = 256 * 1024;

interface FileRead {
  readonly mtimeMs: number;
  readonly size: number;
  readonly accounts: ReadonlyArray<{ id: string; namespace: string; spec: unknown }>;
  readonly problems: readonly string[];
  /** The file's own problem (it could not be read), shown on its accounts. */
  readonly broken?: string;
}

/**
 * TradingAccount manifests from one or more folders (`*.yaml`, `*.yml`, several documents per
 * file), as `kubectl apply -f DIR` would take them. A spec change bumps the account's generation. A file
 * is parsed again only when it changes; one that stops parsing keeps its accounts as they were
 * (like a refused `kubectl apply`), and a name claimed by two files is an error for the second.
 */
export class ManifestFolder {
  readonly #generations = new Map<string, { hash: string; generation: number }>();
  readonly #files = new Map<string, FileRead>();
  /** Which file each account came from, so that a later file naming it again cannot take it over. */
  readonly #owners = new Map<string, string>();

  readonly dirs: readonly string[];

  constructor(dirs: string | readonly string[]) {
    this.dirs = typeof dirs === 'string' ? [dirs] : dirs;
  }

  read(): { accounts: Map<string, ManifestAccount>; problems: string[] } {
    const accounts = new Map<string, ManifestAccount>();
    const problems: string[] = [];
    const files: string[] = [];
    for (const dir of this.dirs) {
      if (!existsSync(dir)) {
        problems.push(`folder ${dir} does not exist`);
        continue;
      }
      const names = readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
      files.push(...names.map((name) => join(dir, name)));
    }
    for (const gone of [...this.#files.keys()]) if (!files.includes(gone)) this.#files.delete(gone);
    const claims: Array<{ file: string; read: FileRead; account: FileRead['accounts'][number] }> = [];
    for (const file of files) {
      const read = this.#readFile(file);
      problems.push(...read.problems);
      for (const account of read.accounts) claims.push({ file, read, account });
    }
    // The file that named an account first keeps it while it still does; a later one is refused.
    const owner = (id: string) => claims.find((c) => c.account.id === id && c.file === this.#owners.get(id)) ?? claims.find((c) => c.account.id === id)!;
    for (const { file, read, account: a } of claims) {
      const first = owner(a.id);
      if (first.file !== file) {
        problems.push(`${file}: metadata.name ${a.id} is already defined in ${first.file}; this one is ignored (names are unique)`);
        continue;
      }
      this.#owners.set(a.id, file);
      accounts.set(a.id, { file, object: this.#object(a.id, a.namespace, a.spec), ...(read.broken ? { problem: read.broken } : {}) });
    }
    for (const id of [...this.#owners.keys()]) if (!accounts.has(id)) this.#owners.delete(id);
    return { accounts, problems };
  }

  #object(id: string, namespace: string, spec: unknown): AccountObject {
    const hash = createHash('sha256')
      .update(JSON.stringify(spec ?? null))
      .digest('hex');
    const seen = this.#generations.get(id);
    const generation = !seen ? 1 : seen.hash === hash ? seen.generation : seen.generation + 1;
    this.#generations.set(id, { hash, generation });
    return { name: id, namespace, uid: id, generation, finalizers: [], spec };
  }

  /** The file's accounts, parsed again only when its size or modification time changed. */
  #readFile(file: string): FileRead {
    const stat = statSync(file);
    const cached = this.#files.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return { ...cached, problems: [] };
    const previous = cached?.accounts ?? [];
    let read: FileRead;
    if (stat.size > MAX_MANIFEST_BYTES) {
      const broken = `${file} is ${stat.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit for a manifest: the change is refused, the last valid spec keeps running`;
      read = { mtimeMs: stat.mtimeMs, size: stat.size, accounts: previous, problems: [broken], broken };
    } else {
      read = parseManifest(file, readFileSync(file, 'utf8'), stat, previous);
    }
    this.#files.set(file, read);
    // Problems are reported when the file changes, not on every pass.
    return read;
  }
}

function parseManifest(file: string, text: string, stat: { mtimeMs: number; size: number }, previous: FileRead['accounts']): FileRead {
  const accounts: Array<{ id: string; namespace: string; spec: unknown }> = [];
  const problems: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      const broken = `${file}: ${doc.errors[0]!.message.split('\n')[0]}: the change is refused, the last valid spec keeps running`;
      return { mtimeMs: stat.mtimeMs, size: stat.size, accounts: previous, problems: [broken], broken };
    }
    const m = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; spec?: unknown } | null;
    if (!m || m.kind !== KIND || !String(m.apiVersion ?? '').startsWith(`${GROUP}/`)) continue;
    const id = m.metadata?.name;
    if (!id || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(id)) {
      problems.push(`${file}: metadata.name must be a lowercase DNS label (got ${JSON.stringify(id)})`);
      continue;
    }
    accounts.push({ id, namespace: m.metadata?.namespace ?? 'local', spec: m.spec });
  }
  return { mtimeMs: stat.mtimeMs, size: stat.size, accounts, problems };
}
