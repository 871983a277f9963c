import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Db } from '../core/db/connection.js';
import { channelOf, redisKeys } from '../core/redis-contract.js';
import { configEntries } from '../core/trading-config.js';
import { tradingConfigOf, type TradingAccountSpec } from './spec.js';

export interface SyncDeps {
  readonly db: Db;
  readonly redis: Redis;
}

/**
 * Keeps the account's `accounts` row, its `trading_config` rows and `ats:cfg:{id}` in step with
 * the spec. Idempotent: when nothing differs nothing is written, and the trader is notified only
 * when its config really changed (it applies the change live, without a restart).
 */
export async function syncAccount(deps: SyncDeps, id: string, spec: TradingAccountSpec, keyFingerprint?: string): Promise<{ configChanged: boolean }> {
  const entries = configEntries(tradingConfigOf(spec));
  // The key's fingerprint binds it to this account (see key-binding.ts); without one the binding stays.
  const fingerprint = keyFingerprint ?? null;
  await deps.db
    .insertInto('accounts')
    .values({ id, name: spec.displayName, exchange: spec.exchange, status: spec.paused ? 'paused' : 'active', key_fingerprint: fingerprint })
    .onConflict((c) =>
      c
        .column('id')
        .doUpdateSet({
          name: spec.displayName,
          exchange: spec.exchange,
          status: spec.paused ? 'paused' : 'active',
          key_fingerprint: sql`coalesce(excluded.key_fingerprint, accounts.key_fingerprint)`,
          deleted_at: null,
          updated_at: sql`now()`,
        })
        .where(
          sql<boolean>`(accounts.name, accounts.exchange, accounts.status, accounts.deleted_at, accounts.key_fingerprint) is distinct from (excluded.name, excluded.exchange, excluded.status, null, coalesce(excluded.key_fingerprint, accounts.key_fingerprint))`,
        ),
    )
    .execute();
  await deps.db.transaction().execute(async (tx) => {
    for (const [key, value] of Object.entries(entries)) {
      await tx
        .insertInto('trading_config')
        .values({ account_id: id, config_key: key, config_value: value })
        .onConflict((c) =>
          c
            .columns(['account_id', 'config_key'])
            .doUpdateSet({ config_value: value, updated_at: sql`now()` })
            .where(sql<boolean>`trading_config.config_value is distinct from excluded.config_value`),
        )
        .execute();
    }
    await tx.deleteFrom('trading_config').where('account_id', '=', id).where('config_key', 'not in', Object.keys(entries)).execute();
  });
  const key = redisKeys.config(id);
  const current = await deps.redis.hgetall(key);
  const changed = Object.keys(current).length !== Object.keys(entries).length || Object.entries(entries).some(([k, v]) => current[k] !== v);
  if (changed) await deps.redis.multi().del(key).hset(key, entries).exec();
  const closeChanged = await syncCloseRequest(deps.redis, id, spec);
  if (changed || closeChanged) await deps.redis.publish(channelOf(deps.redis, redisKeys.configChannel(id)), 'changed');
  return { configChanged: changed };
}

/** Hands the spec's close request (or its absence) to the trader; true when it changed. */
async function syncCloseRequest(redis: Redis, id: string, spec: TradingAccountSpec): Promise<boolean> {
  const key = redisKeys.closeRequest(id);
  const wanted = spec.closePositions ? JSON.stringify(spec.closePositions) : undefined;
  const current = (await redis.hget(key, 'request')) ?? undefined;
  if (wanted === current) return false;
  if (wanted) await redis.hset(key, 'request', wanted);
  else await redis.hdel(key, 'request');
  return wanted !== undefined;
}

/** The account is gone: its records stay, marked deleted; its live config goes. */
export async function retireAccount(deps: SyncDeps, id: string): Promise<void> {
  await deps.db.updateTable('accounts').set({ status: 'deleted', deleted_at: new Date(), updated_at: new Date() }).where('id', '=', id).execute();
  await deps.redis.del(redisKeys.config(id), redisKeys.closeRequest(id));
}
