import { z } from 'zod';
import { markPricesSchema } from '../../core/market-data/types.js';
import { recommendationsSnapshotSchema } from '../../core/recommendations.js';
import { readJson, redisKeys } from '../../core/redis-contract.js';
import { adminOf, userOf, type Api, type ConsoleContext } from '../context.js';
import { readLogs } from '../log-reader.js';
import { USER_ROLES } from '../users.js';

const logSchema = z.object({
  id: z.string(),
  time: z.string(),
  level: z.enum(['error', 'warning', 'info']),
  component: z.string(),
  accountId: z.string(),
  msg: z.string(),
  fields: z.record(z.string(), z.unknown()),
});

const systemSchema = z.object({
  runtime: z.enum(['cluster', 'local']),
  marketdata: z.object({
    heartbeatAgeSeconds: z.number().nullable(),
    markPricesAgeSeconds: z.number().nullable(),
    recommendationsAgeSeconds: z.number().nullable(),
    recommendationsVersion: z.number().nullable(),
  }),
  weight: z.object({
    /** Request weight spent this minute, per egress IP (node). */
    usedThisMinute: z.record(z.string(), z.number()),
    limit: z.number().nullable(),
  }),
  /** 429 and 418 answers counted since Redis started. */
  rateLimited: z.object({ '429': z.number(), '418': z.number() }),
  pools: z.array(z.object({ pool: z.string(), accounts: z.array(z.string()) })),
  accounts: z.object({ total: z.number(), byPhase: z.record(z.string(), z.number()) }),
});

const ageSeconds = (ms: number | undefined) => (ms === undefined ? null : Math.max(0, Math.round((Date.now() - ms) / 100) / 10));

/** Shared by every user: the recommendations and the global logs (filtered); for admins, the system and the audit log. */
export function sharedRoutes(app: Api, c: ConsoleContext): void {
  const redis = c.o.redis;
  app.get(
    '/api/recommendations',
    { schema: { summary: 'The current global recommendations snapshot', response: { 200: recommendationsSnapshotSchema.nullable() } } },
    async () => (await readJson(redis, redisKeys.recommendationsSnapshot(), recommendationsSnapshotSchema)) ?? null,
  );

  app.get(
    '/api/logs',
    {
      schema: {
        summary: "The global logs, newest first: global entries and this user's accounts' entries only",
        querystring: z.object({
          level: z.enum(['error', 'warning', 'info', 'all']).default('all'),
          account: z.string().optional(),
          text: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.array(logSchema) },
      },
    },
    async (req) => {
      const user = userOf(req);
      const may = await c.access.logFilter(user);
      const { level, account, text, limit } = req.query;
      const needle = text?.toLowerCase();
      return readLogs(redis, {
        levels: level === 'all' ? ['error', 'warning', 'info'] : [level],
        limit,
        scan: 5_000,
        keep: (e) =>
          may(e.accountId) &&
          (!account || e.accountId === account) &&
          (!needle || e.msg.toLowerCase().includes(needle) || JSON.stringify(e.fields).toLowerCase().includes(needle)),
      });
    },
  );

  app.get(
    '/api/system',
    { schema: { summary: 'Admins: marketdata freshness, the weight budget, pools, 429/418', response: { 200: systemSchema } } },
    async (req) => {
      adminOf(req);
      const prefix = redis.options.keyPrefix ?? '';
      const minute = Math.floor(Date.now() / 60_000);
      const [heartbeat, marks, snapshot, limit, l429, l418, accounts] = await Promise.all([
        redis.get(redisKeys.heartbeat('marketdata')),
        readJson(redis, redisKeys.markPriceAll(), markPricesSchema).catch(() => undefined),
        readJson(redis, redisKeys.recommendationsSnapshot(), recommendationsSnapshotSchema).catch(() => undefined),
        redis.get(redisKeys.governor('weight_limit')),
        redis.get(redisKeys.governor('limited:429')),
        redis.get(redisKeys.governor('limited:418')),
        c.o.backend.list(),
      ]);
      // This minute's counters: `weight:{minute}` (one budget) or `weight:{egress}:{minute}`.
      const used: Record<string, number> = {};
      const pattern = `${prefix}${redisKeys.governor('weight')}*:${minute}`;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
        cursor = next;
        for (const key of keys) {
          const name =
            key
              .slice(prefix.length + redisKeys.governor('weight').length)
              .replace(`:${minute}`, '')
              .replace(/^:/, '') || 'node';
          used[name] = Number((await redis.get(key.slice(prefix.length))) ?? 0);
        }
      } while (cursor !== '0');
      const pools = new Map<string, string[]>();
      const byPhase: Record<string, number> = {};
      for (const a of accounts) {
        const phase = a.status?.phase ?? 'Unknown';
        byPhase[phase] = (byPhase[phase] ?? 0) + 1;
        if (a.status?.pool) pools.set(a.status.pool, [...(pools.get(a.status.pool) ?? []), a.id]);
      }
      let beat: number | undefined;
      try {
        beat = heartbeat ? (JSON.parse(heartbeat) as { at: number }).at : undefined;
      } catch {
        beat = undefined;
      }
      return {
        runtime: c.o.backend.kind,
        marketdata: {
          heartbeatAgeSeconds: ageSeconds(beat),
          markPricesAgeSeconds: ageSeconds(marks?.updatedAt),
          recommendationsAgeSeconds: ageSeconds(snapshot?.generatedAt),
          recommendationsVersion: snapshot?.version ?? null,
        },
        weight: { usedThisMinute: used, limit: limit ? Number(limit) : null },
        rateLimited: { '429': Number(l429 ?? 0), '418': Number(l418 ?? 0) },
        pools: [...pools].map(([pool, ids]) => ({ pool, accounts: ids })),
        accounts: { total: accounts.length, byPhase },
      };
    },
  );

  app.get(
    '/api/audit',
    {
      schema: {
        summary: 'Admins: the audit log of changes made through the console, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              at: z.string(),
              user: z.string(),
              action: z.string(),
              accountId: z.string().nullable(),
              detail: z.unknown(),
              outcome: z.string(),
            }),
          ),
        },
      },
    },
    async (req) => {
      adminOf(req);
      const rows = await c.audit.recent(req.query.limit);
      return rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        user: r.user_name,
        action: r.action,
        accountId: r.account_id,
        detail: r.detail,
        outcome: r.outcome,
      }));
    },
  );

  app.get(
    '/api/users',
    {
      schema: {
        summary: 'Admins: the console users and the accounts each owns',
        response: { 200: z.array(z.object({ name: z.string(), role: z.enum(USER_ROLES), accounts: z.array(z.string()) })) },
      },
    },
    async (req) => {
      adminOf(req);
      return c.users.list();
    },
  );
}
