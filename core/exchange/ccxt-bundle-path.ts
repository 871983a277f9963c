/** Where `npm run build` puts ccxt's Binance bundle (`bundle-ccxt.ts`), relative to dist/; `ccxt-binance.ts` loads it from there. */
export const CCXT_BUNDLE = 'vendor/ccxt/binanceusdm.js';
