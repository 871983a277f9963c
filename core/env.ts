import { z } from 'zod';
import { AtsError } from './errors.js';

const url = (protocols: readonly string[], what: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected ${what} (${protocols.map((p) => `${p}//…`).join(' or ')})` },
  );

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Which Binance: live, demo, testnet, simulator (the local one), or the URL of a simulator. */
export const exchangeSchema = z
  .string()
  .regex(/^(live|demo|testnet|simulator|https?:\/\/[^\s]+)$/, 'expected live, demo, testnet, simulator or an http(s) URL of a simulator');

/**
 * Every environment variable ats reads, with defaults that work on a developer machine.
 * Variables that may carry credentials are never echoed back in errors.
 */
export const envSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'a Postgres URL').optional(),
  REDIS_URL: url(['redis:', 'rediss:'], 'a Redis URL').optional(),
  REDIS_KEY_PREFIX: z.string().default(''),
  ATS_STATE_DIR: z.string().min(1).default('.ats'),
  ATS_MASTER_KEY: z.string().min(16, 'expected at least 16 characters').optional(),
  ATS_EXCHANGE: exchangeSchema.default('simulator'),
  ATS_EXCHANGE_WS_URL: url(['ws:', 'wss:'], 'a WebSocket URL of the exchange streams').optional(),
  LOG_LEVEL: logLevelSchema.default('info'),
  ATS_LOG_STREAM_LEVEL: z.enum(['error', 'warn', 'info']).default('info'),
  ATS_LOG_STREAM_MAXLEN: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
  /** Where /metrics, /healthz and /readyz listen: every interface in a pod (for scrapes), loopback under `ats up`. */
  ATS_METRICS_HOST: z.union([z.ipv4(), z.ipv6()]).default('0.0.0.0'),
  /** Who holds the marketdata lease: the pod's name, so a restarted container takes its own lease back at once. */
  ATS_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected letters, digits, ".", "_" or "-" (a pod name)')
    .optional(),
  /** The egress identity whose Binance weight budget this process spends (in a cluster, the node's name). */
  ATS_EGRESS_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,253}$/, 'expected letters, digits, ".", "_" or "-" (a node name)')
    .optional(),
});

export type Env = z.infer<typeof envSchema>;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Reads and validates the environment; a bad value throws an error naming the variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const relevant = Object.fromEntries(Object.keys(envSchema.shape).map((name) => [name, emptyToUndefined(source[name])]));
  const parsed = envSchema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new AtsError('ATS_ENV_INVALID', `Invalid environment: ${problems.join('; ')}. Fix or unset the variable and start again.`);
}

const emptyToUndefined = (value: string | undefined) => (value === '' ? undefined : value);
