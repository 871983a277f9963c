import { z } from 'zod';
import { readHashJson, redisKeys } from '../../core/redis-contract.js';
import { pendingOrderSchema, trackedPositionSchema } from '../../core/runtime-values.js';
import { configEntries, parseConfigEntries, tradingConfigSchema } from '../../core/trading-config.js';
import { tradingAccountSpecSchema, tradingConfigOf } from '../../operator/spec.js';
import { accountSummarySchema, summarize } from '../account-summary.js';
import { userOf, type Api, type ConsoleContext } from '../context.js';

export const accountIdParams = z.object({ id: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'an account id is a lowercase DNS label') });

const accountDetailSchema = z.object({
  summary: accountSummarySchema,
  /** The spec as stored (what `kubectl get -o yaml` shows), or null when it does not parse. */
  spec: tradingAccountSpecSchema.nullable(),
  /** The config the trader runs with now (`ats:cfg`), once the operator has applied the spec. */
  appliedConfig: tradingConfigSchema.nullable(),
  /** Whether the config in effect is the spec's (false while the operator and the trader apply a change). */
  configApplied: z.boolean(),
  keyFingerprint: z.string().nullable(),
  /** The account's close request, and whether the trader has carried it out. */
  closeRequest: z.object({ id: z.string(), symbols: z.array(z.string()), done: z.boolean() }).nullable(),
});

const positionsSchema = z.object({
  positions: z.array(trackedPositionSchema),
  pendingOrders: z.array(pendingOrderSchema),
});

/** The config in effect (`ats:cfg`), or null when there is none or it does not read. */
function appliedConfigOf(cfg: Record<string, string>) {
  try {
    return Object.keys(cfg).length ? parseConfigEntries(cfg) : null;
  } catch {
    return null;
  }
}

/** The user's accounts: the overview, one account, its live positions and orders. */
export function accountRoutes(app: Api, c: ConsoleContext): void {
  app.get(
    '/api/accounts',
    { schema: { summary: "The accounts this user may see, with the operator's live status", response: { 200: z.array(accountSummarySchema) } } },
    async (req) => (await c.access.accounts(userOf(req))).map(summarize),
  );

  app.get(
    '/api/accounts/:id',
    {
      schema: { summary: 'One account: status, spec, the config in effect, key fingerprint', params: accountIdParams, response: { 200: accountDetailSchema } },
    },
    async (req) => {
      const view = await c.access.account(userOf(req), req.params.id);
      const id = view.id;
      const spec = tradingAccountSpecSchema.safeParse(view.spec);
      const [cfg, row, close] = await Promise.all([
        c.o.redis.hgetall(redisKeys.config(id)),
        c.o.db.selectFrom('accounts').select('key_fingerprint').where('id', '=', id).executeTakeFirst(),
        c.o.redis.hmget(redisKeys.closeRequest(id), 'request', 'done'),
      ]);
      const appliedConfig = appliedConfigOf(cfg);
      const request = spec.success ? spec.data.closePositions : undefined;
      const wanted = spec.success ? JSON.stringify(configEntries(tradingConfigOf(spec.data))) : undefined;
      return {
        summary: summarize(view),
        spec: spec.success ? spec.data : null,
        appliedConfig,
        configApplied: appliedConfig !== null && wanted === JSON.stringify(configEntries(appliedConfig)),
        keyFingerprint: row?.key_fingerprint ?? null,
        closeRequest: request ? { id: request.id, symbols: request.symbols, done: close[1] === request.id } : null,
      };
    },
  );

  app.get(
    '/api/accounts/:id/positions',
    {
      schema: {
        summary: 'Open positions with their stop-loss and take-profit, and open orders, as the trader tracks them',
        params: accountIdParams,
        response: { 200: positionsSchema },
      },
    },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const bad = () => undefined;
      const [positions, pending] = await Promise.all([
        readHashJson(c.o.redis, redisKeys.positions(id), trackedPositionSchema, bad),
        readHashJson(c.o.redis, redisKeys.pendingOrders(id), pendingOrderSchema, bad),
      ]);
      return { positions: [...positions.values()], pendingOrders: [...pending.values()] };
    },
  );
}
