import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Db } from '../core/db/connection.js';
import { parseJson, redisKeys } from '../core/redis-contract.js';
import { recordOpSchema, type RecordOp } from '../core/runtime-values.js';
import { describeError } from '../core/errors.js';

/** Order statuses by how far along they are (Binance's order and algo-order statuses). */
const statusRank = (column: ReturnType<typeof sql.ref>) => sql`(case ${column}
  when 'NEW' then 0 when 'PARTIALLY_FILLED' then 1 when 'TRIGGERING' then 1 when 'TRIGGERED' then 2
  else 3 end)`;

export type { PositionClose, RecordOp } from '../core/runtime-values.js';

/**
 * How long a record waits before it is written, so those of a moment go together. Records are
 * bookkeeping (the Redis outbox already holds them): in a burst, a pool's hundred entries and
 * stop-losses go first, and their records follow in batches instead of a write each in between.
 */
export const RECORD_DELAY_MS = 250;
/** Records written over one connection (one role switch in a pool) before the next batch. */
const BATCH = 50;

/**
 * The account's records in Postgres, written through an outbox: every operation is kept (in
 * memory and in `ats:outbox:{account}`) until Postgres has taken it, so a Postgres outage or a
 * restart loses nothing and a replay writes nothing twice.
 */
export class RecordWriter {
  readonly #queue: RecordOp[] = [];
  readonly #db: Db;
  readonly #redis: Redis;
  readonly #key: string;
  readonly #log: Logger;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(opts: { db: Db; redis: Redis; accountId: string; logger: Logger }) {
    this.#db = opts.db;
    this.#redis = opts.redis;
    this.#key = redisKeys.outbox(opts.accountId);
    this.#log = opts.logger;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Loads what a previous run left in the outbox. */
  async restore(): Promise<void> {
    const saved = await this.#redis.lrange(this.#key, 0, -1);
    for (const json of saved) {
      try {
        this.#queue.push(parseJson(this.#key, json, recordOpSchema));
      } catch (err) {
        // It cannot be written; the list must stay in step with the queue (each write pops its
        // head), so it leaves the list, and its whole text goes to the error log for a person.
        this.#log.error({ err: describeError(err), record: json }, 'a waiting record is damaged and cannot be written: removed from the outbox');
        await this.#redis.lrem(this.#key, 1, json);
      }
    }
    if (saved.length > 0) this.#log.info({ records: saved.length }, 'records from the previous run are waiting to be written');
  }

  write(op: RecordOp): void {
    this.#queue.push(op);
    // Kept in memory either way; without Redis it would not survive a restart, so say so.
    this.#redis
      .rpush(this.#key, JSON.stringify(op))
      .catch((err) =>
        this.#log.warn({ err: describeError(err), kind: op.kind }, 'record not saved in the Redis outbox (kept in memory until Postgres takes it)'),
      );
    this.#soon ??= setTimeout(() => {
      this.#soon = undefined;
      void this.flush();
    }, RECORD_DELAY_MS);
  }

  /** Writes what is waiting; on failure keeps it and retries every 2 s. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Waits until everything is written or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.#queue.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    return this.#queue.length === 0;
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#soon);
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      // A batch over one connection: in a pool, one switch to the account's role for all of it.
      const batch = this.#queue.slice(0, BATCH);
      let written = 0;
      let failure: unknown;
      try {
        await this.#db.connection().execute(async (db) => {
          for (const op of batch) {
            await this.#apply(db, op);
            written += 1;
          }
        });
      } catch (err) {
        failure = err;
      }
      if (written > 0) {
        this.#queue.splice(0, written);
        // Not trimmed (Redis gone): after a restart they are written again, which changes nothing.
        await this.#redis.ltrim(this.#key, written, -1).catch(() => undefined);
      }
      if (failure !== undefined) {
        if (!this.#failing) this.#log.warn({ err: describeError(failure), waiting: this.#queue.length }, 'Postgres unavailable: records wait until it is back');
        this.#failing = true;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.flush(), 2_000);
        return;
      }
      if (this.#failing) {
        this.#failing = false;
        this.#log.info({ waiting: this.#queue.length }, 'Postgres is back: writing waiting records');
      }
    }
  }

  /** One idempotent write: replaying it changes nothing. */
  async #apply(db: Db, op: RecordOp): Promise<void> {
    switch (op.kind) {
      case 'account':
        // Normally the operator's; a trader started by hand must still be able to record.
        await db
          .insertInto('accounts')
          .values(op.row)
          .onConflict((c) => c.column('id').doNothing())
          .execute();
        return;
      case 'order': {
        const { row } = op;
        // Stream events and REST answers arrive in any order: merge, never move a status back.
        await db
          .insertInto('orders')
          .values(row)
          .onConflict((c) =>
            c.columns(['account_id', 'client_order_id']).doUpdateSet({
              status: sql`case when ${statusRank(sql.ref('excluded.status'))} >= ${statusRank(sql.ref('orders.status'))} then excluded.status else orders.status end`,
              exchange_order_id: sql`coalesce(excluded.exchange_order_id, orders.exchange_order_id)`,
              filled_quantity: sql`greatest(excluded.filled_quantity, orders.filled_quantity)`,
              average_price: sql`coalesce(excluded.average_price, orders.average_price)`,
              trigger_price: sql`coalesce(excluded.trigger_price, orders.trigger_price)`,
              recommendation_id: sql`coalesce(excluded.recommendation_id, orders.recommendation_id)`,
              error: sql`coalesce(excluded.error, orders.error)`,
              updated_at: sql`now()`,
            }),
          )
          .execute();
        return;
      }
      case 'funding':
        await db
          .insertInto('funding_payments')
          .values(op.row)
          .onConflict((c) => c.columns(['account_id', 'exchange_tran_id']).doNothing())
          .execute();
        return;
      case 'trade':
        await db
          .insertInto('trades')
          .values(op.row)
          .onConflict((c) => c.columns(['account_id', 'symbol', 'exchange_trade_id']).doNothing())
          .execute();
        return;
      case 'position_open':
        await db
          .insertInto('positions')
          .values(op.row)
          .onConflict((c) => c.columns(['account_id', 'position_key']).doNothing())
          .execute();
        return;
      case 'position_update':
        await db
          .updateTable('positions')
          .set({ quantity: op.row.quantity, entry_price: op.row.entry_price, updated_at: new Date() })
          .where('account_id', '=', op.row.account_id)
          .where('position_key', '=', op.row.position_key)
          .where('status', '=', 'open')
          .execute();
        return;
      case 'position_close': {
        const { fills, ...row } = op.row;
        await db.transaction().execute(async (tx) => {
          await tx
            .updateTable('positions')
            .set({
              status: 'closed',
              quantity: row.quantity,
              entry_price: row.entry_price,
              exit_price: row.exit_price,
              realized_pnl: row.realized_pnl,
              fees: row.fees,
              closed_at: row.closed_at,
              updated_at: new Date(),
            })
            .where('account_id', '=', row.account_id)
            .where('position_key', '=', row.position_key)
            .execute();
          for (const f of fills) {
            await tx
              .updateTable('trades')
              .set({ position_key: row.position_key, client_order_id: sql`coalesce(${f.clientOrderId}, client_order_id)` })
              .where('account_id', '=', row.account_id)
              .where('symbol', '=', row.symbol)
              .where('exchange_trade_id', '=', f.tradeId)
              .execute();
          }
        });
        return;
      }
      case 'snapshot':
        await db
          .insertInto('account_snapshots')
          .values(op.row)
          .onConflict((c) => c.columns(['account_id', 'taken_at']).doNothing())
          .execute();
        return;
    }
  }
}
