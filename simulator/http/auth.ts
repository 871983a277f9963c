import { createHmac, timingSafeEqual } from 'node:crypto';
import { err } from '../binance-error.js';
import type { ExchangeEngine } from '../engine/exchange-engine.js';
import type { SimAccount } from '../engine/types.js';
import { signedPayload, type ParsedRequest } from './request.js';

export type Security = 'NONE' | 'API_KEY' | 'SIGNED';

const MAX_RECV_WINDOW = 60_000;

/** Binance's request security: API key header, then for SIGNED the timestamp rule and HMAC. */
export function authenticate(req: ParsedRequest, security: Security, engine: ExchangeEngine, serverTime: number): SimAccount | undefined {
  if (security === 'NONE') return undefined;
  if (!req.apiKey) throw err.badApiKeyFormat();
  const account = engine.byApiKey(req.apiKey);
  if (security === 'API_KEY') {
    if (!account) throw err.rejectedKey(req.ip);
    return account;
  }
  const timestampText = req.params.timestamp;
  if (!timestampText) throw err.mandatory('timestamp');
  const timestamp = Number(timestampText);
  if (!Number.isFinite(timestamp)) throw err.mandatory('timestamp');
  const recvWindow = req.params.recvWindow === undefined ? 5_000 : Number(req.params.recvWindow);
  if (!Number.isFinite(recvWindow) || recvWindow <= 0) throw err.illegalParam('recvWindow');
  if (recvWindow > MAX_RECV_WINDOW) throw err.recvWindowTooLarge();
  if (timestamp >= serverTime + 1_000) throw err.timestampAhead();
  if (serverTime - timestamp > recvWindow) throw err.timestampOutside();
  const { payload, signature } = signedPayload(req.rawQuery, req.rawBody);
  if (!signature) throw err.mandatory('signature');
  if (!account) throw err.rejectedKey(req.ip);
  const expected = createHmac('sha256', account.apiSecret).update(payload).digest('hex');
  const given = signature.toLowerCase();
  if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) throw err.badSignature();
  return account;
}
