import { z } from 'zod';

export const markPriceSchema = z.object({
  markPrice: z.number(),
  indexPrice: z.number().optional(),
  fundingRate: z.number().optional(),
  nextFundingTime: z.number().optional(),
  time: z.number(),
});

/** `ats:md:mark_price:all` */
export const markPricesSchema = z.object({
  /** When marketdata wrote it (ms). */
  updatedAt: z.number(),
  source: z.enum(['stream', 'rest']),
  prices: z.record(z.string(), markPriceSchema),
});
export type MarkPrices = z.infer<typeof markPricesSchema>;

export const tickerSchema = z.object({
  last: z.number(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  quoteVolume: z.number(),
  percentage: z.number(),
});

/** `ats:md:ticker_24h:all` */
export const tickersSchema = z.object({ updatedAt: z.number(), tickers: z.record(z.string(), tickerSchema) });
export type Tickers = z.infer<typeof tickersSchema>;

/** `ats:md:klines:{symbol}:{interval}:{limit}`: [openTime, open, high, low, close, volume] rows. */
export const klinesSchema = z.object({
  updatedAt: z.number(),
  candles: z.array(z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number()])),
});
export type Klines = z.infer<typeof klinesSchema>;
export type Candle = Klines['candles'][number];

/** `ats:md:exchange_info`: Binance's exchangeInfo, with the fields ats reads checked. */
export const exchangeInfoSchema = z.looseObject({
  rateLimits: z.array(z.object({ rateLimitType: z.string(), interval: z.string(), intervalNum: z.number(), limit: z.number() })),
  symbols: z.array(z.looseObject({ symbol: z.string(), status: z.string(), contractType: z.string(), quoteAsset: z.string() })),
});
export type ExchangeInfo = z.infer<typeof exchangeInfoSchema>;

/** TTLs, inside the user's ranges. */
export const TTL = {
  markPrices: 5_000,
  tickers: 30_000,
  exchangeInfo: 24 * 3_600_000,
  /** 30 s for minute klines up to 120 s for hourly and longer. */
  klines: (interval: string) => (/^\d+m$/.test(interval) ? 30_000 : 120_000),
} as const;

/** Mark prices older than this are stale (the user's bound). */
export const MARK_PRICE_MAX_AGE_MS = 5_000;
