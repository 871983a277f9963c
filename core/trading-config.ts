import { z } from 'zod';
import { AtsError } from './errors.js';

/**
 * One account's trading config: the same schema validates the TradingAccount spec, the
 * `trading_config` rows and the `ats:cfg:{account_id}` hash (one field per key, JSON values).
 */
export const tradingConfigSchema = z.object({
  tradingEnabled: z.boolean().default(true).describe('New entries allowed. Off: open positions stay protected, nothing new is opened.'),
  symbols: z
    .array(z.string().regex(/^[A-Z0-9]{2,20}$/))
    .max(500)
    .default([])
    .describe('Symbols this account may trade (Binance ids, e.g. BTCUSDT); empty: all.'),
  minScore: z.number().min(0).max(1).default(0.5).describe('Recommendations scoring below this are ignored (0..1).'),
  maxOpenPositions: z.number().int().min(0).max(100).default(3).describe('Open positions at most; 0 opens none.'),
  sizing: z
    .discriminatedUnion('mode', [
      z.object({ mode: z.literal('fixed'), usdt: z.number().positive() }),
      z.object({ mode: z.literal('equity'), percent: z.number().positive().max(100) }),
    ])
    .default({ mode: 'fixed', usdt: 50 })
    .describe('Margin per position: a fixed USDT amount, or a percentage of equity. Notional = margin × leverage.'),
  leverage: z.number().int().min(1).max(125).default(3).describe('Leverage set on each symbol before the entry.'),
  marginMode: z.enum(['isolated', 'cross']).default('isolated').describe('Margin mode set on each symbol before the entry.'),
  entryType: z
    .enum(['market', 'limit'])
    .default('market')
    .describe('market: enter at once; limit: a limit order at the recommended entry, cancelled when the recommendation expires.'),
  maxOrdersPerDay: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(60)
    .describe('Orders (entries and their stop-loss and take-profit) this account may place per UTC day.'),
  dailyLossLimitPercent: z
    .number()
    .positive()
    .max(100)
    .default(5)
    .describe('Kill switch: new entries halt for the rest of the UTC day once equity has fallen this many percent since the day began.'),
  fallbackStopPercent: z
    .number()
    .positive()
    .max(50)
    .default(2)
    .describe('Stop distance used to protect a position whose recommendation is unknown (adopted positions).'),
  stopLossDeadlineSeconds: z
    .number()
    .int()
    .min(2)
    .max(300)
    .default(10)
    .describe('A position whose stop-loss the exchange has not accepted for this long is closed at market (reduce-only), and the reason logged as an error.'),
});

export type TradingConfig = z.infer<typeof tradingConfigSchema>;

export const CONFIG_KEYS = Object.keys(tradingConfigSchema.shape) as Array<keyof TradingConfig>;

/** Parses a hash or rows of `key → JSON value`; a bad value gives an error naming the key. */
export function parseConfigEntries(entries: Record<string, string>): TradingConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    try {
      raw[key] = JSON.parse(value);
    } catch {
      throw new AtsError('ATS_CONFIG_INVALID', `trading config ${key}: not valid JSON (${value.slice(0, 40)})`);
    }
  }
  const parsed = tradingConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AtsError('ATS_CONFIG_INVALID', `invalid trading config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export const configEntries = (config: TradingConfig): Record<string, string> => Object.fromEntries(CONFIG_KEYS.map((k) => [k, JSON.stringify(config[k])]));
