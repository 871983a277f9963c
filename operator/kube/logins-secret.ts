import type { V1Secret } from '@kubernetes/client-node';
import { provisionConsoleLogins, provisionMarketdataLogins, type AdminLogins, type Logins } from '../logins.js';
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

/** A Deployment of the chart that gets logins of its own from the operator, and how they are made. */
export const SERVICE_LOGINS = { marketdata: provisionMarketdataLogins, console: provisionConsoleLogins } as const;
export type LoginsService = keyof typeof SERVICE_LOGINS;

/**
 * A service's own Postgres role and Redis user (marketdata's, the console's), and the Secret its
 * pod reads them from (the chart's Deployment mounts it). As for traders, the passwords already in
 * the Secret are set again on every pass (a Redis restarted empty gets the user back) and deleting
 * the Secret rotates them. The Secret is owned by the runtime Secret, so it goes with the Helm release.
 */
export async function ensureServiceLogins(
  kube: KubeApi,
  admin: AdminLogins,
  o: { namespace: string; name: string; runtimeSecret: string; service: LoginsService },
): Promise<void> {
  const { namespace, name, runtimeSecret, service } = o;
  const found = loginsIn(await kube.getSecret(namespace, name));
  const logins = await SERVICE_LOGINS[service](admin, found);
  if (sameLogins(found, logins)) return;
  const owner = await kube.getSecret(namespace, runtimeSecret);
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'ats', 'app.kubernetes.io/managed-by': 'ats-operator', 'app.kubernetes.io/component': service },
      ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: runtimeSecret, uid: owner.uid }] } : {}),
    },
    data: loginsData(logins, admin.keyPrefix),
  };
  await kube.applySecret(secret);
}
