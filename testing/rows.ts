/** A filled entry order row of an account, as a trader writes one (for row-level security tests). */
export const filledOrderRow = (account_id: string, client_order_id: string) => ({
  account_id,
  client_order_id,
  symbol: 'BTCUSDT',
  side: 'buy' as const,
  type: 'market',
  purpose: 'entry' as const,
  quantity: '0.01',
  status: 'FILLED',
  updated_at: new Date().toISOString(),
});
