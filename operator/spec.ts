import { z } from 'zod';
import { tradingConfigSchema, type TradingConfig } from '../core/trading-config.js';

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
export const accountConfigSchema = tradingConfigSchema.omit({ tradingEnabled: true, sizing: true }).extend({ sizing: sizing.optional() }).strict();

/**
 * `TradingAccount.spec`. `crds/tradingaccounts.yaml` says the same in OpenAPI; a test checks that
 * both accept and reject the same examples.
 */
export const tradingAccountSpecSchema = z
  .object({
    displayName: z.string().min(1).max(100),
    /** live, demo, testnet, simulator, or the URL of a simulator. */
    exchange: z.string().regex(/^(live|demo|testnet|simulator|https?:\/\/[^\s]+)$/, 'expected live, demo, testnet, simulator or an http(s) URL'),
    /** The Secret with the keys apiKey and apiSecret (in the local runtime: the local key store's entry). */
    secretRef: z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/) }).strict(),
    paused: z.boolean().default(false),
    config: accountConfigSchema.prefault({}),
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
export const tradingConfigOf = (spec: TradingAccountSpec): TradingConfig =>
  tradingConfigSchema.parse({ ...spec.config, tradingEnabled: !spec.paused });

export function parseSpec(spec: unknown): { ok: true; spec: TradingAccountSpec } | { ok: false; message: string } {
  const parsed = tradingAccountSpecSchema.safeParse(spec);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, message: parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ') };
}
