import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { GROUP, KIND, type AccountObject } from '../operator/spec.js';

export interface ManifestAccount {
  readonly object: AccountObject;
  readonly file: string;
}

/**
 * TradingAccount manifests from a folder (`*.yaml`, `*.yml`, several documents per file), as
 * `kubectl apply -f DIR` would take them. A spec change bumps the account's generation.
 */
export class ManifestFolder {
  readonly #generations = new Map<string, { hash: string; generation: number }>();

  constructor(readonly dir: string) {}

  read(): { accounts: Map<string, ManifestAccount>; problems: string[] } {
    const accounts = new Map<string, ManifestAccount>();
    const problems: string[] = [];
    if (!existsSync(this.dir)) return { accounts, problems: [`folder ${this.dir} does not exist`] };
    for (const name of readdirSync(this.dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      const file = join(this.dir, name);
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        if (doc.errors.length > 0) {
          problems.push(`${file}: ${doc.errors[0]!.message}`);
          continue;
        }
        const m = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; spec?: unknown } | null;
        if (!m || m.kind !== KIND || !String(m.apiVersion ?? '').startsWith(`${GROUP}/`)) continue;
        const id = m.metadata?.name;
        if (!id || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(id)) {
          problems.push(`${file}: metadata.name must be a lowercase DNS label (got ${JSON.stringify(id)})`);
          continue;
        }
        const hash = createHash('sha256')
          .update(JSON.stringify(m.spec ?? null))
          .digest('hex');
        const seen = this.#generations.get(id);
        const generation = !seen ? 1 : seen.hash === hash ? seen.generation : seen.generation + 1;
        this.#generations.set(id, { hash, generation });
        accounts.set(id, { file, object: { name: id, namespace: m.metadata?.namespace ?? 'local', uid: id, generation, finalizers: [], spec: m.spec } });
      }
    }
    return { accounts, problems };
  }
}
