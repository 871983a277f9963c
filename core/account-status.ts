import { z } from 'zod';

/**
 * What the operator and the local runtime say of an account: `TradingAccount.status` in the
 * cluster (the CRD's status schema is generated from it), `ats:status:{account}` locally.
 */

/** `ats:heartbeat:trader:{account}`: the trader's own account of itself, every few seconds. */
export const heartbeatSchema = z.object({
  state: z.string(),
  at: z.number(),
  equity: z.number().optional(),
  unrealizedPnl: z.number().optional(),
  openPositions: z.number(),
  lastError: z.string().optional(),
});
export type TraderHeartbeat = z.infer<typeof heartbeatSchema>;

export const PHASES = ['Pending', 'Running', 'Paused', 'Halted', 'Error', 'Terminating'] as const;
export type Phase = (typeof PHASES)[number];

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.number().int().optional(),
  lastTransitionTime: z.iso.datetime(),
  reason: z.string(),
  message: z.string(),
});
export type Condition = Readonly<z.infer<typeof conditionSchema>>;

/** `TradingAccount.status`, written by the operator. */
export const accountStatusSchema = z.object({
  phase: z.enum(PHASES),
  observedGeneration: z.number().int(),
  traderState: z.string().optional(),
  openPositions: z.number().int().optional(),
  equity: z.number().optional(),
  unrealizedPnl: z.number().optional(),
  pnlToday: z.number().optional(),
  lastError: z.string().optional(),
  lastHeartbeat: z.iso.datetime().optional(),
  /** The trader pool the account trades in (pooled placement); none: a trader of its own. */
  pool: z.string().optional(),
  conditions: z.array(conditionSchema),
});
export type AccountStatus = Readonly<z.infer<typeof accountStatusSchema>> & { readonly conditions: Condition[] };

/** `ats:status:{account}`: the local runtime's status of an account, as `ats status` shows it. */
export const localAccountStatusSchema = accountStatusSchema.extend({
  name: z.string(),
  displayName: z.string().optional(),
  exchange: z.string().optional(),
  createdAt: z.string(),
});
export type LocalAccountStatus = z.infer<typeof localAccountStatusSchema>;
