import type { TraderContext } from './context.js';

/**
 * Records the funding the account pays and receives. Funding happens at fixed times (every
 * 8 hours on Binance), which the shared mark prices announce as `nextFundingTime`: when that
 * moves on, the account's funding since the last one recorded is fetched once (weight 30) and
 * written, idempotently by the exchange's transaction id. With the fills, it accounts for every
 * change of the wallet.
 */
export class FundingWatch {
  #seen: number | undefined;
  #since: number | undefined;

  constructor(private readonly c: TraderContext) {}

  /** At start: where to look from (the last payment recorded, else a day back), and look once. */
  async start(): Promise<void> {
    const last = await this.c.db
      .selectFrom('funding_payments')
      .select((eb) => eb.fn.max('paid_at').as('last'))
      .where('account_id', '=', this.c.accountId)
      .executeTakeFirst()
      .catch(() => undefined); // Postgres away: look a day back, the writes are idempotent
    this.#since = last?.last ? new Date(last.last).getTime() + 1 : Date.now() - 24 * 3_600_000;
    await this.sync();
  }

  /**
   * Whether the account can have paid or received funding since `since`: only a position open at
   * a funding time does. An account that held none asks nothing (weight 30 each, hundreds of
   * accounts at once, would spend minutes of the node's budget). When unsure, it asks.
   */
  async #mayHaveFunding(since: number): Promise<boolean> {
    if ((await this.c.runtime.positions()).size > 0) return true;
    const held = await this.c.db
      .selectFrom('positions')
      .select('id')
      .where('account_id', '=', this.c.accountId)
      .where((eb) => eb.or([eb('status', '=', 'open'), eb('closed_at', '>=', new Date(since))]))
      .limit(1)
      .execute()
      .catch(() => undefined); // Postgres away: ask the exchange
    return held === undefined || held.length > 0;
  }

  /** Called with each reconciliation: fetches funding when a funding time has passed. */
  async check(): Promise<void> {
    const marks = await this.c.reader.markPrices().catch(() => undefined); // no marks now: the next check sees the change
    if (!marks) return;
    const next = Math.max(0, ...Object.values(marks.prices).map((p) => p.nextFundingTime ?? 0));
    if (next === 0) return;
    const passed = this.#seen !== undefined && next !== this.#seen;
    this.#seen = next;
    if (passed) await this.sync();
  }

  async sync(): Promise<void> {
    const since = this.#since ?? Date.now() - 24 * 3_600_000;
    if (!(await this.#mayHaveFunding(since))) {
      this.#since = Date.now();
      return;
    }
    const payments = await this.c.account().funding(since);
    for (const p of payments) {
      this.c.records.write({
        kind: 'funding',
        row: { account_id: this.c.accountId, symbol: p.symbol, amount: p.amount, paid_at: new Date(p.time).toISOString(), exchange_tran_id: p.tranId },
      });
      this.#since = Math.max(this.#since ?? 0, p.time + 1);
    }
    if (payments.length > 0) {
      this.c.balance = await this.c
        .account()
        .balance()
        .catch(() => this.c.balance); // the next heartbeat corrects it
      this.c.log.info({ payments: payments.length }, 'funding recorded');
    }
  }
}
