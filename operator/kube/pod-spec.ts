import type { V1PodSpec, V1ResourceRequirements } from '@kubernetes/client-node';

/** The metrics and probes port of every trading pod. */
export const TRADER_PORT = 9465;

/** The CLI in the image (its ENTRYPOINT runs it; `charts/image.test.ts` keeps the two in step). */
export const IMAGE_MAIN = 'dist/cli/main.js';

/** What differs between the trading pods (a dedicated trader, a pool): the rest is the same hardening. */
export interface TradingPodOptions {
  readonly container: string;
  readonly image: string;
  /** Replaces the image's ENTRYPOINT (a pool's or a dedicated trader's V8 flags). */
  readonly command?: string[];
  readonly args: string[];
  readonly logLevel: string;
  /** The Secret with DATABASE_URL and REDIS_URL the process reads as its environment. */
  readonly loginsSecret: string;
  readonly resources: { readonly requests: { cpu: string; memory: string }; readonly limits: { cpu: string; memory: string } };
  /** The Secret mounted read-only at `mountPath` (the key pair, or a pool's keys). */
  readonly credentials: { readonly secretName: string; readonly mountPath: string; readonly items?: Array<{ key: string; path: string }> };
}

/**
 * The pod of a process that trades: non-root, read-only root filesystem, no service-account token,
 * no capabilities, probes on the metrics port, its credentials mounted read-only, and the node's
 * name as its egress identity (Binance counts weight per IP: the processes of a node share a budget).
 */
export function tradingPodSpec(o: TradingPodOptions): V1PodSpec {
  const resources: V1ResourceRequirements = { requests: { ...o.resources.requests }, limits: { ...o.resources.limits } };
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 30,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: o.container,
        image: o.image,
        imagePullPolicy: 'IfNotPresent',
        ...(o.command ? { command: o.command } : {}),
        args: o.args,
        env: [
          { name: 'LOG_LEVEL', value: o.logLevel },
          { name: 'ATS_EGRESS_ID', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
        envFrom: [{ secretRef: { name: o.loginsSecret } }],
        ports: [{ name: 'metrics', containerPort: TRADER_PORT, protocol: 'TCP' }],
        resources,
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, initialDelaySeconds: 15, periodSeconds: 20, failureThreshold: 3 },
        readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, initialDelaySeconds: 5, periodSeconds: 10 },
        volumeMounts: [
          { name: 'credentials', mountPath: o.credentials.mountPath, readOnly: true },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      },
    ],
    volumes: [
      {
        name: 'credentials',
        secret: { secretName: o.credentials.secretName, defaultMode: 0o440, ...(o.credentials.items ? { items: o.credentials.items } : {}) },
      },
      { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
    ],
  };
}
