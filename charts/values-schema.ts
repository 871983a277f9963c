import { z } from 'zod';
import { exchangeSchema, logLevelSchema } from '../core/env.js';
import { PLACEMENTS } from '../operator/pools.js';

/**
 * The Helm chart's values. `charts/ats/values.schema.json` is generated from this by
 * `npm run generate` (Helm checks values against it on install, upgrade, lint and template);
 * `charts/ats/values.yaml` holds the defaults and says what each one means.
 */
const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/), z.number().nonnegative()]);
const resources = z
  .object({
    requests: z.object({ cpu: quantity, memory: quantity }).partial().strict().optional(),
    limits: z.object({ cpu: quantity, memory: quantity }).partial().strict().optional(),
  })
  .strict()
  .describe('Kubernetes resource requests and limits of the container');
const labels = z.record(z.string(), z.string()).describe('Labels added to the object');
const image = z.string().min(1).describe('Container image (repository:tag)');
const binanceInterval = z.enum(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M']);
const externalUrl = (scheme: string) =>
  z.union([z.literal(''), z.string().regex(new RegExp(`^${scheme}s?://`))]).describe(`With bundled false: the ${scheme}:// URL (may carry the password)`);

export const chartValuesSchema = z
  .object({
    image: z
      .object({
        repository: z.string().min(1),
        tag: z.string().min(1),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
      })
      .strict()
      .describe('The one image every ats process runs'),
    exchange: exchangeSchema.describe('Exchange for public market data: live, demo, testnet, or the URL of a simulator'),
    logLevel: logLevelSchema,
    operator: z.object({ replicas: z.number().int().min(1).max(5), resources }).strict(),
    marketdata: z
      .object({
        scanEveryMinutes: z.number().int().positive().describe('Minutes between recommendation scans'),
        interval: binanceInterval.describe('Kline interval the strategy reads'),
        universe: z.number().int().positive().max(500).describe('How many of the most traded USDT perpetuals to scan'),
        validityMinutes: z.number().int().positive().describe('Minutes a recommendation stays actionable'),
        resources,
      })
      .strict(),
    trader: z
      .object({
        resources,
        defaultPlacement: z
          .enum(PLACEMENTS)
          .describe('Where an account whose spec names no placement trades: dedicated (a pod of its own) or pooled (a trader pool)'),
        pool: z
          .object({
            maxAccounts: z.number().int().min(1).max(1000).describe('Accounts per trader pool'),
            resources,
          })
          .strict()
          .describe('Trader pools: pods that each run many pooled accounts'),
      })
      .strict()
      .describe('Each trader pod the operator creates'),
    console: z
      .object({
        enabled: z.boolean().describe('Run the web console and HTTP API'),
        replicas: z.number().int().min(1).max(5),
        adminPassword: z.string().describe("The first admin's password; empty: generated at install and kept on upgrades"),
        defaultExchange: exchangeSchema.describe('The exchange of an account created in the console without one'),
        resources,
        ingress: z
          .object({
            enabled: z.boolean(),
            className: z.string().describe('The IngressClass; empty: the cluster default'),
            host: z.string().describe('The host name the console is served on'),
            tlsSecret: z.string().describe("A TLS Secret for the host; set, the console's cookies go over HTTPS only"),
          })
          .strict()
          .describe("An Ingress in front of the console's Service"),
      })
      .strict()
      .describe('The web console and HTTP API: each user sees and runs only the accounts they own'),
    postgresql: z
      .object({
        bundled: z.boolean().describe('true: a small Postgres in the release; false: set externalUrl'),
        image,
        storage: quantity.describe('Size of the bundled database volume'),
        password: z
          .string()
          .describe("Password of the bundled database's workload role `ats` (not a superuser); empty: generated at install and kept on upgrades"),
        externalUrl: externalUrl('postgres'),
        resources,
      })
      .strict(),
    redis: z
      .object({
        bundled: z.boolean().describe('true: a small Redis in the release (no persistence, ACLs); false: set externalUrl'),
        image,
        password: z.string().describe("Password of the bundled Redis's user `ats` (the operator's); empty: generated at install and kept on upgrades"),
        externalUrl: externalUrl('redis'),
        resources,
      })
      .strict(),
    metrics: z
      .object({
        serviceMonitor: z.object({ enabled: z.boolean(), interval: z.string().regex(/^[0-9]+(ms|s|m|h)$/), labels }).strict(),
        prometheusRule: z.object({ enabled: z.boolean(), labels }).strict(),
        grafanaDashboard: z.object({ enabled: z.boolean(), labels }).strict(),
      })
      .strict()
      .describe('For users of the Prometheus operator (kube-prometheus-stack)'),
    podDisruptionBudget: z.object({ enabled: z.boolean() }).strict(),
    networkPolicy: z
      .object({
        enabled: z.boolean().describe('A NetworkPolicy confining the traders (out: DNS, datastores, exchange; in: metrics scrapes)'),
        datastorePorts: z.array(z.number().int().min(1).max(65535)).min(1).describe('TCP ports of Postgres and Redis the traders may reach'),
        exchangePorts: z.array(z.number().int().min(1).max(65535)).min(1).describe("TCP ports of the exchange's API and streams"),
      })
      .strict(),
    simulator: z
      .object({
        enabled: z.boolean().describe('A Binance simulator in the cluster (ats-sim:8480)'),
        speed: z.number().nonnegative().describe('Market time per wall-clock time (600: ten replayed minutes a second; 0: frozen)'),
      })
      .strict(),
    /** Helm passes `global` to every chart. */
    global: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const chartValuesJsonSchema = (): Record<string, unknown> => {
  const { $schema: _dropped, ...schema } = z.toJSONSchema(chartValuesSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'ats Helm chart values', ...schema };
};
