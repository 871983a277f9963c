import { ACCOUNT_MARK } from '../key-binding.js';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Lease,
  type V1Secret,
} from '@kubernetes/client-node';
import { FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION } from '../spec.js';
import { accountStatusSchema, type AccountStatus } from '../status.js';

export interface TradingAccountResource {
  readonly metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    creationTimestamp?: string;
  };
  readonly spec: unknown;
  readonly status?: Partial<AccountStatus>;
}

const notFound = (err: unknown) => err instanceof ApiException && err.code === 404;
export const isConflict = (err: unknown) => err instanceof ApiException && err.code === 409;

/** The Kubernetes calls the operator makes, through @kubernetes/client-node. */
/** Every status field as null, under the status being written: fields it lacks are removed. */
const CLEARED_STATUS = Object.fromEntries(Object.keys(accountStatusSchema.shape).map((k) => [k, null]));

export class KubeApi {
  readonly custom: CustomObjectsApi;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  async getAccount(namespace: string, name: string): Promise<TradingAccountResource | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as TradingAccountResource;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async listAccounts(namespace: string): Promise<{ items: TradingAccountResource[]; resourceVersion: string }> {
    const list = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })) as {
      items: TradingAccountResource[];
      metadata: { resourceVersion: string };
    };
    return { items: list.items, resourceVersion: list.metadata.resourceVersion };
  }

  /** Sets the finalizers; the resourceVersion makes a concurrent change a 409 instead of a lost update. */
  async setFinalizers(account: TradingAccountResource, finalizers: string[]): Promise<void> {
    const { name, namespace, resourceVersion } = account.metadata;
    await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { metadata: { finalizers, resourceVersion } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async patchStatus(namespace: string, name: string, status: AccountStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      // A merge patch keeps what it does not name: a field the status no longer has is sent as null (removed).
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status: { ...CLEARED_STATUS, ...status } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** A Secret's data (base64 values) and the account it is marked for (`ats.dev/account`, label or annotation). */
  async getSecret(namespace: string, name: string): Promise<{ data: Record<string, string>; uid: string; markedFor: string | undefined } | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace });
      return {
        data: secret.data ?? {},
        uid: secret.metadata?.uid ?? '',
        markedFor: secret.metadata?.annotations?.[ACCOUNT_MARK] ?? secret.metadata?.labels?.[ACCOUNT_MARK],
      };
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /** A Secret the operator owns (a trader's logins), by server-side apply. */
  async applySecret(s: V1Secret): Promise<void> {
    await this.core.patchNamespacedSecret(
      { name: s.metadata!.name!, namespace: s.metadata!.namespace!, body: s, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
  }

  /** Server-side apply with the operator's own field manager. */
  async applyDeployment(d: V1Deployment): Promise<V1Deployment> {
    return this.apps.patchNamespacedDeployment(
      { name: d.metadata!.name!, namespace: d.metadata!.namespace!, body: d, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
  }

  async getDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    try {
      return await this.apps.readNamespacedDeployment({ name, namespace });
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /** The Deployments with these labels (`k=v,k2=v2`), by name. */
  async listDeployments(namespace: string, labelSelector: string): Promise<string[]> {
    const list = await this.apps.listNamespacedDeployment({ namespace, labelSelector });
    return list.items.map((d) => d.metadata!.name!);
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace });
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }

  async deleteDeployment(namespace: string, name: string): Promise<void> {
    try {
      await this.apps.deleteNamespacedDeployment({ name, namespace });
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }

  async getLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    try {
      return await this.coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /** A Kubernetes Event on a TradingAccount (`kubectl describe ta NAME` and `kubectl get events` show it). */
  async recordEvent(account: TradingAccountResource, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { name, namespace, uid } = account.metadata;
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`, namespace },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name, namespace, uid },
        type,
        reason,
        message: message.slice(0, 1024),
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: FIELD_MANAGER },
        reportingComponent: FIELD_MANAGER,
      },
    });
  }

  createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.coordination.createNamespacedLease({ namespace, body: lease });
  }

  replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.coordination.replaceNamespacedLease({ name: lease.metadata!.name!, namespace, body: lease });
  }
}
