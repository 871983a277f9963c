import { z } from 'zod';
import { exchangeSchema } from '../core/env.js';
import { tradingConfigSchema, type TradingConfig } from '../core/trading-config.js';
import { PLACEMENTS } from './pools.js';
import { closeRequestSchema } from '../core/runtime-values.js';

export const GROUP = 'ats.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'tradingaccounts';
export const KIND = 'TradingAccount';
export const FINALIZER = 'ats.dev/records';
export const FIELD_MANAGER = 'ats-operator';

const sizing = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('fixed'), usdt: z.number().positive().max(1_000_000) }).strict(),
  z.object({ mode: z.literal('equity'), percent: z.number().positive().max(100) }).strict(),
]);

/** The account's trading config as a TradingAccount spec holds it (`paused` is on the spec). */
export const accountConfigSchema = tradingConfigSchema
  .omit({ tradingEnabled: true, sizing: true })
  .extend({ sizing: sizing.optional().describe(tradingConfigSchema.shape.sizing.description ?? '') })
  .strict();

/**
 * `TradingAccount.spec`. The CRD's OpenAPI schema (`crds/tradingaccounts.yaml`) is generated from
 * it by `npm run generate`; a test fails when the file is not what the generator makes.
 */
export const tradingAccountSpecSchema = z
  .object({
    displayName: z.string().min(1).max(100).describe('Name shown for the account'),
    exchange: exchangeSchema.describe('live, demo, testnet, simulator, or the URL of a simulator'),
    secretRef: z
      .object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/) })
      .strict()
      .describe('The Secret (in the same namespace) with the keys apiKey and apiSecret; in the local runtime, the local key store entry'),
    paused: z.boolean().default(false).describe('Stop new entries; open positions stay protected'),
    placement: z
      .enum(PLACEMENTS)
      .optional()
      .describe(
        "dedicated: a trader process (pod) of its own; pooled: a place in a trader pool shared with other accounts (much less memory). Default: the installation's (Helm trader.defaultPlacement, ats up --placement)",
      ),
    closePositions: closeRequestSchema
      .optional()
      .describe('Close positions now, at market (reduce-only): give the request a new id to ask again; the trader acts on each id once'),
    config: accountConfigSchema.prefault({}).describe('The trading config; every field has a default'),
  })
  .strict();

export type TradingAccountSpec = z.infer<typeof tradingAccountSpecSchema>;

/** Metadata the reconciler reads (Kubernetes, or a manifest in the local runtime). */
export interface AccountObject {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly generation: number;
  readonly resourceVersion?: string;
  readonly deletionTimestamp?: string;
  readonly finalizers: readonly string[];
  readonly spec: unknown;
}

/** The trading config the trader reads, from the spec. */
export const tradingConfigOf = (spec: TradingAccountSpec): TradingConfig => tradingConfigSchema.parse({ ...spec.config, tradingEnabled: !spec.paused });

export function parseSpec(spec: unknown): { ok: true; spec: TradingAccountSpec } | { ok: false; message: string } {
  const parsed = tradingAccountSpecSchema.safeParse(spec);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, message: parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ') };
}
