import { createBinanceClient, type BinanceClient } from './binance-client.js';
import { resolveExchangeTarget } from './exchange-target.js';
import { governClient } from './governed-client.js';
import type { RateGovernor } from './governor.js';

export interface GovernedClientOptions {
  readonly exchange: string | undefined;
  readonly wsUrl?: string | undefined;
  readonly governor: RateGovernor;
  readonly apiKey?: string;
  readonly apiSecret?: string;
  readonly accountId?: string;
}

/** A ccxt client for the configured exchange whose every REST call goes through the governor. */
export async function createGovernedClient(opts: GovernedClientOptions): Promise<BinanceClient> {
  const target = resolveExchangeTarget(opts.exchange, opts.wsUrl);
  const client = await createBinanceClient({ ...target, apiKey: opts.apiKey, apiSecret: opts.apiSecret });
  return governClient(client, opts.governor, opts.accountId ? { accountId: opts.accountId } : {});
}
