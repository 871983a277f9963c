import { sql, type Kysely } from 'kysely';

/**
 * Funding payments (Binance's FUNDING_FEE income) per account, exactly as the exchange printed
 * them: with fills, they account for every change of the wallet.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('funding_payments')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('amount', 'numeric', (c) => c.notNull())
    .addColumn('paid_at', 'timestamptz', (c) => c.notNull())
    .addColumn('exchange_tran_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('funding_payments_account_tran', ['account_id', 'exchange_tran_id'])
    .execute();
  await db.schema.createIndex('funding_payments_account_time').on('funding_payments').columns(['account_id', 'paid_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('funding_payments').execute();
}
