import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ccxtTypes from 'ccxt';

/**
 * Only ccxt's Binance USDⓈ-M part. The package's main entry loads every exchange ccxt supports
 * (about 40 MB more per process, measured by `npm run bench`), and every trader is a process of
 * its own; its `exports` map offers no subpath, so the module files are loaded by path. The error
 * classes come from the same files, so `instanceof` matches what the client throws.
 */
const root = dirname(dirname(createRequire(import.meta.url).resolve('ccxt')));
const load = async <T>(relative: string): Promise<T> => (await import(pathToFileURL(join(root, relative)).href)) as T;

export const BinanceUsdm = (await load<{ default: typeof ccxtTypes.pro.binanceusdm }>('js/src/pro/binanceusdm.js')).default;
export const ccxtErrors = await load<typeof ccxtTypes>('js/src/base/errors.js');
/** ccxt's exact decimal arithmetic on strings (BigInt inside), for money. */
export const Precise = (await load<{ default: typeof ccxtTypes.Precise }>('js/src/base/Precise.js')).default;
/** ccxt's rounding of decimal strings (`decimalToPrecision` and its mode constants). */
export const ccxtNumber = await load<{
  decimalToPrecision: (x: string | number, roundingMode: number, digits: number, countingMode?: number, paddingMode?: number) => string;
  ROUND: number;
  DECIMAL_PLACES: number;
  PAD_WITH_ZERO: number;
}>('js/src/base/functions/number.js');
