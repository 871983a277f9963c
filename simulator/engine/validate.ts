import { err } from '../binance-error.js';
import { decimalsOf, isMultipleOf, type SymbolSpec } from '../market/symbols.js';

export type Params = Readonly<Record<string, string | undefined>>;

export const required = (params: Params, name: string): string => {
  const value = params[name];
  if (value === undefined || value === '') throw err.mandatory(name);
  return value;
};

export const bool = (params: Params, name: string): boolean => {
  const value = params[name];
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === 'TRUE') return true;
  if (value === 'false' || value === 'FALSE') return false;
  throw err.illegalParam(name);
};

export const side = (params: Params) => {
  const value = required(params, 'side');
  if (value !== 'BUY' && value !== 'SELL') throw err.invalidSide();
  return value;
};

/** Decimal places that matter in a number as sent ("0.0100" → 2). */
const significantDecimals = (text: string) => {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  return text.slice(dot + 1).replace(/0+$/, '').length;
};

const positiveNumber = (text: string, name: string) => {
  const value = Number(text);
  if (!/^-?\d+(\.\d+)?$/.test(text) || !Number.isFinite(value)) throw err.mandatory(name);
  return value;
};

/** LOT_SIZE rules, as Binance checks them: precision, then sign, step, bounds. */
export function quantity(spec: SymbolSpec, text: string, market = false): number {
  const value = positiveNumber(text, 'quantity');
  if (significantDecimals(text) > Math.max(spec.quantityPrecision, decimalsOf(spec.stepSize))) throw err.badPrecision();
  if (value <= 0) throw err.qtyLessThanZero();
  if (value < spec.minQty - 1e-12) throw err.qtyBelowMin(String(spec.minQty));
  if (value > (market ? spec.marketMaxQty : spec.maxQty)) throw err.qtyAboveMax(String(market ? spec.marketMaxQty : spec.maxQty));
  if (!isMultipleOf(value, spec.stepSize)) throw err.qtyNotStep();
  return value;
}

/** PRICE_FILTER rules for a price or trigger price. */
export function price(spec: SymbolSpec, text: string, name = 'price'): number {
  const value = positiveNumber(text, name);
  if (significantDecimals(text) > Math.max(spec.pricePrecision, decimalsOf(spec.tickSize))) throw err.badPrecision();
  if (value <= 0) throw err.mandatory(name);
  if (value < spec.minPrice) throw err.priceBelowMin();
  if (!isMultipleOf(value, spec.tickSize)) throw err.priceNotTick();
  return value;
}

const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export function clientId(value: string | undefined, name: string, generate: () => string): string {
  if (value === undefined || value === '') return generate();
  if (!CLIENT_ID.test(value)) throw err.illegalParam(name);
  return value;
}

export const roundTo = (value: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};
