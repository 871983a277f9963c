import { AtsError } from '../errors.js';
import type { BinanceClientOptions } from './binance-client.js';

export const DEFAULT_EXCHANGE_URL = 'http://127.0.0.1:8480';

/**
 * Where an exchange setting points: `simulator` (the local simulator, default), `live`
 * (fapi.binance.com), `demo` (Binance demo trading), `testnet`, or a URL (a simulator elsewhere).
 */
export function resolveExchangeTarget(value: string | undefined, wsOverride?: string): Pick<BinanceClientOptions, 'restUrl' | 'wsUrl' | 'demo' | 'options'> {
  const target = value ?? 'simulator';
  if (target === 'simulator') return { restUrl: DEFAULT_EXCHANGE_URL, wsUrl: wsOverride };
  if (target === 'live') return wsOverride ? { restUrl: 'https://fapi.binance.com', wsUrl: wsOverride } : {};
  if (target === 'demo') return { demo: true };
  if (target === 'testnet') {
    return {
      restUrl: 'https://testnet.binancefuture.com',
      wsUrl: wsOverride ?? 'wss://fstream.binancefuture.com',
      options: { disableFuturesSandboxWarning: true },
    };
  }
  if (/^https?:\/\//.test(target)) return { restUrl: target, wsUrl: wsOverride };
  throw new AtsError('ATS_EXCHANGE_INVALID', `Unknown exchange "${target}": use simulator, live, demo, testnet or an http(s) URL.`);
}
