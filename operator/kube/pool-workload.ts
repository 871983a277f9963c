import type { V1Deployment, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { loginsData } from './logins-secret.js';
import { IMAGE_MAIN, tradingPodSpec } from './pod-spec.js';
import { POOL_NODE_FLAGS } from '../../core/node-flags.js';
import { TRADER_PORT, TRADING_LABEL, type TraderDeploymentOptions } from './trader-deployment.js';
import type { Logins } from '../logins.js';

export const POOL_COMPONENT = 'trader-pool';
export const poolLabel = 'ats.dev/pool';
/** The files of a pool's accounts (`<account>.apiKey`, …), as `ats pool --credentials-dir` reads them. */
export const POOL_CREDENTIALS_DIR = '/var/run/secrets/ats-pool';
/** The Secret the operator assembles from the pool's accounts' Secrets. */
export const poolKeysSecretName = (pool: string) => `${pool}-keys`;
/** The Secret with the pool's own DATABASE_URL and REDIS_URL. */
export const poolLoginsSecretName = (pool: string) => `${pool}-logins`;

export interface PoolWorkloadOptions extends TraderDeploymentOptions {
  /** A pool pod's resources (it holds up to maxAccounts accounts). */
  readonly poolResources: { readonly requests: { cpu: string; memory: string }; readonly limits: { cpu: string; memory: string } };
}

/** One account of a pool, as its Secret holds it (base64, as read) and the exchange of its spec. */
export interface PoolMember {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly exchange: string;
}

const labels = (pool: string, instance: string | undefined) => ({
  'app.kubernetes.io/name': 'ats',
  'app.kubernetes.io/component': POOL_COMPONENT,
  'app.kubernetes.io/managed-by': 'ats-operator',
  [poolLabel]: pool,
  ...(instance ? { 'app.kubernetes.io/instance': instance } : {}),
});

/**
 * A pool's keys: `<account>.apiKey`, `<account>.apiSecret` and `<account>.exchange` for each of its
 * accounts. The pool reads the mounted files again every few seconds, so an account joining,
 * leaving or rotating its key changes this Secret and nothing else: no pod restarts.
 */
export function poolKeysSecret(
  namespace: string,
  pool: string,
  members: readonly PoolMember[],
  owner: V1OwnerReference | undefined,
  instance?: string,
): V1Secret {
  const data: Record<string, string> = {};
  for (const m of members) {
    data[`${m.id}.apiKey`] = m.apiKey;
    data[`${m.id}.apiSecret`] = m.apiSecret;
    data[`${m.id}.exchange`] = Buffer.from(m.exchange).toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: poolKeysSecretName(pool), namespace, labels: labels(pool, instance), ...(owner ? { ownerReferences: [owner] } : {}) },
    data,
  };
}

export function poolLoginsSecret(
  namespace: string,
  pool: string,
  logins: Logins,
  keyPrefix: string | undefined,
  owner: V1OwnerReference | undefined,
  instance?: string,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: poolLoginsSecretName(pool), namespace, labels: labels(pool, instance), ...(owner ? { ownerReferences: [owner] } : {}) },
    data: loginsData(logins, keyPrefix),
  };
}

/**
 * A pool's Deployment: as a trader's (one replica, Recreate, non-root, read-only root, no token,
 * probes, metrics), running `ats pool` over the mounted keys Secret. Its pod template does not
 * change when accounts do; the pool follows the files.
 */
export function poolDeployment(namespace: string, pool: string, o: PoolWorkloadOptions, owner: V1OwnerReference | undefined): V1Deployment {
  const podLabels = { ...labels(pool, o.instance), 'ats.dev/metrics': 'true', [TRADING_LABEL]: 'true' };
  const selector = { 'app.kubernetes.io/component': POOL_COMPONENT, [poolLabel]: pool };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: pool, namespace, labels: labels(pool, o.instance), ...(owner ? { ownerReferences: [owner] } : {}) },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: podLabels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(TRADER_PORT) } },
        spec: tradingPodSpec({
          container: 'pool',
          image: o.image,
          // The image's entrypoint with a pool's V8 flags.
          command: ['node', ...POOL_NODE_FLAGS, IMAGE_MAIN],
          args: ['pool', '--pool', pool, '--credentials-dir', POOL_CREDENTIALS_DIR, '--port', String(TRADER_PORT)],
          logLevel: o.logLevel,
          loginsSecret: o.ownLogins ? poolLoginsSecretName(pool) : o.runtimeSecret,
          resources: o.poolResources,
          credentials: { secretName: poolKeysSecretName(pool), mountPath: POOL_CREDENTIALS_DIR },
        }),
      },
    },
  };
}

export const DEFAULT_POOL_RESOURCES = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '768Mi' } };
