import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as ccxtTypes from 'ccxt';
import { CCXT_BUNDLE } from './ccxt-bundle-path.js';

/**
 * Only ccxt's Binance USDⓈ-M part. The package's main entry loads every exchange ccxt supports
 * (about 40 MB more per process, measured by `npm run bench`), and every trader is a process of
 * its own; its `exports` map offers no subpath, so the module files are loaded by path. The built
 * program (dist/) loads them from one minified bundle instead (`bundle-ccxt.ts`: 4.7 MB less heap);
 * from the sources (tsx, tests) they load from the package. The error classes come from the same
 * files, so `instanceof` matches what the client throws.
 */
interface CcxtBinance {
  BinanceUsdm: typeof ccxtTypes.pro.binanceusdm;
  ccxtErrors: typeof ccxtTypes;
  Precise: typeof ccxtTypes.Precise;
  ccxtNumber: {
    decimalToPrecision: (x: string | number, roundingMode: number, digits: number, countingMode?: number, paddingMode?: number) => string;
    ROUND: number;
    DECIMAL_PLACES: number;
    PAD_WITH_ZERO: number;
  };
}

/** The bundle's place in dist/ (`bundle-ccxt.ts` writes it there): this file is dist/core/exchange/. */
const bundle = join(dirname(fileURLToPath(import.meta.url)), '..', '..', CCXT_BUNDLE);

async function loadFromPackage(): Promise<CcxtBinance> {
  const root = dirname(dirname(createRequire(import.meta.url).resolve('ccxt')));
  const load = async <T>(relative: string): Promise<T> => (await import(pathToFileURL(join(root, relative)).href)) as T;
  return {
    BinanceUsdm: (await load<{ default: CcxtBinance['BinanceUsdm'] }>('js/src/pro/binanceusdm.js')).default,
    ccxtErrors: await load<CcxtBinance['ccxtErrors']>('js/src/base/errors.js'),
    Precise: (await load<{ default: CcxtBinance['Precise'] }>('js/src/base/Precise.js')).default,
    ccxtNumber: await load<CcxtBinance['ccxtNumber']>('js/src/base/functions/number.js'),
  };
}

/** Where ccxt came from in this process: the built program's bundle, or the package's files. */
export const ccxtSource: 'bundle' | 'package' = existsSync(bundle) ? 'bundle' : 'package';
const ccxt: CcxtBinance = ccxtSource === 'bundle' ? ((await import(pathToFileURL(bundle).href)) as CcxtBinance) : await loadFromPackage();

export const BinanceUsdm = ccxt.BinanceUsdm;
export const ccxtErrors = ccxt.ccxtErrors;
/** ccxt's exact decimal arithmetic on strings (BigInt inside), for money. */
export const Precise = ccxt.Precise;
/** ccxt's rounding of decimal strings (`decimalToPrecision` and its mode constants). */
export const ccxtNumber = ccxt.ccxtNumber;
