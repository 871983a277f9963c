import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { keyFingerprint, type KeyPair } from '../core/credentials/key-pair.js';
import { AtsError } from '../core/errors.js';
import type { KubeApi, TradingAccountResource } from '../operator/kube/kube-api.js';
import { ACCOUNT_MARK } from '../operator/key-binding.js';
import { GROUP, KIND, PLURAL, VERSION } from '../operator/spec.js';
import type { AccountBackend, AccountView } from './account-backend.js';

/** The console's field manager: `kubectl get -o yaml --show-managed-fields` tells its writes from a person's. */
export const CONSOLE_FIELD_MANAGER = 'ats-console';
/** On a Secret the console wrote: the API key's fingerprint, so the key itself is never read back. */
export const FINGERPRINT_ANNOTATION = 'ats.dev/key-fingerprint';

const view = (r: TradingAccountResource): AccountView => ({ id: r.metadata.name, spec: r.spec, generation: r.metadata.generation, status: r.status });

/**
 * TradingAccounts and their Secrets in one namespace, through the API server: the console's
 * ServiceAccount may read and write TradingAccounts and write (never read) Secrets.
 */
export class KubeBackend implements AccountBackend {
  readonly kind = 'cluster';

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
  ) {}

  async list(): Promise<AccountView[]> {
    const { items } = await this.api.listAccounts(this.namespace);
    return items.map(view).sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<AccountView | undefined> {
    const r = await this.api.getAccount(this.namespace, id);
    return r ? view(r) : undefined;
  }

  async write(id: string, spec: Record<string, unknown>, opts: { create: boolean }): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name: id, namespace: this.namespace }, spec };
    try {
      if (opts.create) {
        await this.api.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, body });
      } else {
        // A merge patch of the whole spec: what the form sent replaces what was there.
        const current = await this.api.getAccount(this.namespace, id);
        if (!current) throw new AtsError('ATS_UNKNOWN_ACCOUNT', `No account ${id}.`);
        await this.api.custom.replaceNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: this.namespace,
          plural: PLURAL,
          name: id,
          body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
        });
      }
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) {
        throw new AtsError(
          'ATS_BAD_OPTION',
          opts.create ? `Account ${id} exists already: choose another name.` : `Account ${id} changed meanwhile: reload and try again.`,
        );
      }
      if (err instanceof ApiException && err.code === 422)
        throw new AtsError('ATS_CONFIG_INVALID', `The API server refused the account: ${String(err.body).slice(0, 300)}`);
      throw err;
    }
  }

  async setKey(id: string, secretName: string, pair: KeyPair): Promise<{ fingerprint: string }> {
    const fingerprint = keyFingerprint(pair.apiKey);
    // Server-side apply creates or replaces the Secret without reading it first.
    await this.api.core.patchNamespacedSecret(
      {
        name: secretName,
        namespace: this.namespace,
        fieldManager: CONSOLE_FIELD_MANAGER,
        force: true,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secretName, namespace: this.namespace, annotations: { [ACCOUNT_MARK]: id, [FINGERPRINT_ANNOTATION]: fingerprint } },
          type: 'Opaque',
          stringData: { apiKey: pair.apiKey, apiSecret: pair.apiSecret },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    return { fingerprint };
  }
}
