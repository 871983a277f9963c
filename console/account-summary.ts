import { z } from 'zod';
import { PHASES } from '../core/account-status.js';
import { parseSpec } from '../operator/spec.js';
import type { AccountView } from './account-backend.js';

/** One account on the overview: what the operator reports of it, live. */
export const accountSummarySchema = z.object({
  id: z.string(),
  displayName: z.string(),
  exchange: z.string(),
  phase: z.enum([...PHASES, 'Unknown']),
  paused: z.boolean(),
  equity: z.number().nullable(),
  unrealizedPnl: z.number().nullable(),
  pnlToday: z.number().nullable(),
  openPositions: z.number().nullable(),
  lastError: z.string().nullable(),
  pool: z.string().nullable(),
  /** The spec's generation and the one the operator has applied (equal: the last change is live). */
  generation: z.number().nullable(),
  observedGeneration: z.number().nullable(),
  /** Why the stored spec is refused (a broken manifest, an invalid field), if it is. */
  problem: z.string().nullable(),
});
export type AccountSummary = z.infer<typeof accountSummarySchema>;

export function summarize(view: AccountView): AccountSummary {
  const parsed = parseSpec(view.spec);
  const spec = parsed.ok ? parsed.spec : undefined;
  const s = view.status ?? {};
  const problem = view.problem ?? (parsed.ok ? undefined : parsed.message);
  return {
    id: view.id,
    displayName: spec?.displayName ?? ((view.status as { displayName?: string } | undefined)?.displayName || view.id),
    exchange: spec?.exchange ?? '',
    phase: s.phase ?? 'Unknown',
    paused: spec?.paused ?? false,
    equity: s.equity ?? null,
    unrealizedPnl: s.unrealizedPnl ?? null,
    pnlToday: s.pnlToday ?? null,
    openPositions: s.openPositions ?? null,
    lastError: s.lastError ?? null,
    pool: s.pool ?? null,
    generation: view.generation ?? null,
    observedGeneration: s.observedGeneration ?? null,
    problem: problem ?? null,
  };
}
