import type { V1Secret } from '@kubernetes/client-node';
import { provisionMarketdataLogins, type AdminLogins, type Logins } from '../logins.js';
import type { KubeApi } from './kube-api.js';

/**
 * A logins Secret's data: DATABASE_URL, REDIS_URL and the key prefix. `data`, not `stringData`:
 * what the operator reads back is exactly what it wrote.
 */
export function loginsData(logins: Logins, keyPrefix: string | undefined): Record<string, string> {
  const values = { DATABASE_URL: logins.databaseUrl, REDIS_URL: logins.redisUrl, ...(keyPrefix ? { REDIS_KEY_PREFIX: keyPrefix } : {}) };
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}

/** The logins a Secret the operator wrote holds, if it holds both. */
export function loginsIn(secret: { data: Record<string, string> } | undefined): Logins | undefined {
  const text = (key: string) => (secret?.data[key] ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined);
  const [databaseUrl, redisUrl] = [text('DATABASE_URL'), text('REDIS_URL')];
  return databaseUrl && redisUrl ? { databaseUrl, redisUrl } : undefined;
}

/** Whether the Secret already holds these logins (nothing to write). */
export const sameLogins = (a: Logins | undefined, b: Logins) => a?.databaseUrl === b.databaseUrl && a.redisUrl === b.redisUrl;

/**
 * marketdata's own Postgres role and Redis user, and the Secret its pod reads them from (the
 * chart's marketdata Deployment mounts it). As for traders, the passwords already in the Secret
 * are set again on every pass (a Redis restarted empty gets the user back) and deleting the Secret
 * rotates them. The Secret is owned by the runtime Secret, so it goes with the Helm release.
 */
export async function ensureMarketdataLogins(kube: KubeApi, admin: AdminLogins, namespace: string, name: string, runtimeSecret: string): Promise<void> {
  const found = loginsIn(await kube.getSecret(namespace, name));
  const logins = await provisionMarketdataLogins(admin, found);
  if (sameLogins(found, logins)) return;
  const owner = await kube.getSecret(namespace, runtimeSecret);
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'ats', 'app.kubernetes.io/managed-by': 'ats-operator', 'app.kubernetes.io/component': 'marketdata' },
      ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: runtimeSecret, uid: owner.uid }] } : {}),
    },
    data: loginsData(logins, admin.keyPrefix),
  };
  await kube.applySecret(secret);
}
