import type { BinanceClient } from '../core/exchange/binance-client.js';

/** How long one parsed copy of the markets serves new clients before the next one parses afresh. */
const MARKETS_MAX_AGE_MS = 60 * 60_000;

/**
 * Markets parsed once and shared by every account client of a pool (ccxt's
 * `setMarketsFromExchange`): a client that parsed the exchange info itself holds about a
 * megabyte of market objects per few hundred symbols, which a pool of hundreds cannot afford.
 * The shared objects are only read by ccxt.
 */
export class SharedMarkets {
  #source: { client: BinanceClient; at: number } | undefined;

  /** Gives `client` the pool's markets, or loads them into it (and keeps it as the source). */
  async load(client: BinanceClient): Promise<void> {
    const source = this.#source;
    if (source && Date.now() - source.at < MARKETS_MAX_AGE_MS) {
      client.setMarketsFromExchange(source.client);
      // ccxt's loadMarkets now returns the shared markets without parsing anything.
      return void (await client.loadMarkets());
    }
    await client.loadMarkets();
    this.#source = { client, at: Date.now() };
  }
}
