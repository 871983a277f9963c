import { createHash } from 'node:crypto';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { GROUP, KIND, VERSION, type TradingAccountSpec } from '../spec.js';
import { loginsData } from './logins-secret.js';
import { IMAGE_MAIN, TRADER_PORT, tradingPodSpec } from './pod-spec.js';
import { TRADER_NODE_FLAGS } from '../../core/node-flags.js';

export { TRADER_PORT } from './pod-spec.js';

export interface TraderDeploymentOptions {
  readonly image: string;
  /** Secret with DATABASE_URL and REDIS_URL for every ats process (made by the chart). */
  readonly runtimeSecret: string;
  /** Give each trader logins of its own (a Secret the operator makes) instead of the runtime Secret's. */
  readonly ownLogins?: boolean;
  readonly logLevel: string;
  readonly resources: { readonly requests: { cpu: string; memory: string }; readonly limits: { cpu: string; memory: string } };
  /** The Helm release the operator belongs to: its metrics Service selects the traders by it. */
  readonly instance?: string | undefined;
}

export interface AccountRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export const CREDENTIALS_DIR = '/var/run/secrets/ats';
export const traderName = (account: string) => `trader-${account}`;
/** The Secret with a trader's own DATABASE_URL and REDIS_URL (its Postgres role and Redis user). */
export const loginsSecretName = (account: string) => `trader-${account}-logins`;
export const accountLabel = 'ats.dev/account';
/** On every pod that trades (dedicated traders and pools): the chart's NetworkPolicy confines them by it. */
export const TRADING_LABEL = 'ats.dev/trading';

/** A digest of the Secret's data: in the pod template, so a rotated key rolls the trader (and reveals nothing). */
export const secretVersion = (data: Record<string, string> | undefined) =>
  createHash('sha256')
    .update(JSON.stringify(Object.entries(data ?? {}).sort()))
    .digest('hex')
    .slice(0, 16);

/**
 * The one trader Deployment of an account, as plain data: one replica, Recreate (never two
 * traders for one account), non-root, read-only root filesystem, no service-account token, the
 * key pair mounted read-only, probes and the metrics port.
 */
export function traderDeployment(account: AccountRef, spec: TradingAccountSpec, keyVersion: string, o: TraderDeploymentOptions): V1Deployment {
  const labels = {
    'app.kubernetes.io/name': 'ats',
    'app.kubernetes.io/component': 'trader',
    'app.kubernetes.io/managed-by': 'ats-operator',
    [accountLabel]: account.name,
    ...(o.instance ? { 'app.kubernetes.io/instance': o.instance } : {}),
    'ats.dev/metrics': 'true',
    [TRADING_LABEL]: 'true',
  };
  const selector = { 'app.kubernetes.io/component': 'trader', [accountLabel]: account.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: traderName(account.name),
      namespace: account.namespace,
      labels,
      ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: account.name, uid: account.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: { 'ats.dev/secret-version': keyVersion, 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(TRADER_PORT) },
        },
        spec: tradingPodSpec({
          container: 'trader',
          image: o.image,
          command: ['node', ...TRADER_NODE_FLAGS, IMAGE_MAIN],
          args: ['trader', '--account', account.name, '--credentials-dir', CREDENTIALS_DIR, '--exchange', spec.exchange, '--port', String(TRADER_PORT)],
          logLevel: o.logLevel,
          loginsSecret: o.ownLogins ? loginsSecretName(account.name) : o.runtimeSecret,
          resources: o.resources,
          credentials: {
            secretName: spec.secretRef.name,
            mountPath: CREDENTIALS_DIR,
            items: [
              { key: 'apiKey', path: 'apiKey' },
              { key: 'apiSecret', path: 'apiSecret' },
            ],
          },
        }),
      },
    },
  };
}

export const DEFAULT_TRADER_RESOURCES = { requests: { cpu: '20m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } };

/** The trader's logins Secret, owned by its TradingAccount (it goes with it). */
export function loginsSecret(account: AccountRef, logins: { databaseUrl: string; redisUrl: string }, keyPrefix: string | undefined): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: loginsSecretName(account.name),
      namespace: account.namespace,
      labels: { 'app.kubernetes.io/name': 'ats', 'app.kubernetes.io/managed-by': 'ats-operator', [accountLabel]: account.name },
      ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: account.name, uid: account.uid, controller: true, blockOwnerDeletion: true }],
    },
    data: loginsData(logins, keyPrefix),
  };
}
