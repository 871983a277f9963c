import { ccxtNumber, Precise } from './exchange/ccxt-binance.js';

/**
 * Exact decimal arithmetic for money, on the exchange's decimal strings (ccxt's `Precise` and
 * `decimalToPrecision`):
 * never a float sum. Results are plain decimal strings ("-105.17000000").
 */
export type Decimal = string;

const text = (value: string | number): string => (typeof value === 'number' ? String(value) : value);

export const decimal = {
  add: (a: string | number, b: string | number): Decimal => Precise.stringAdd(text(a), text(b))!,
  sub: (a: string | number, b: string | number): Decimal => Precise.stringSub(text(a), text(b))!,
  mul: (a: string | number, b: string | number): Decimal => Precise.stringMul(text(a), text(b))!,
  /** Truncated to `places` decimals; undefined when dividing by zero. */
  div: (a: string | number, b: string | number, places = 12): Decimal | undefined => Precise.stringDiv(text(a), text(b), places),
  sum: (values: ReadonlyArray<string | number>): Decimal => values.reduce<string>((s, v) => Precise.stringAdd(s, text(v))!, '0'),
  eq: (a: string | number, b: string | number): boolean => Precise.stringEq(text(a), text(b)),
  isZero: (a: string | number): boolean => Precise.stringEq(text(a), '0'),
  neg: (a: string | number): Decimal => Precise.stringNeg(text(a))!,
  /** Rounded half away from zero to `places` decimals, printed with exactly that many. */
  round: (value: string | number, places: number): Decimal =>
    ccxtNumber.decimalToPrecision(text(value), ccxtNumber.ROUND, places, ccxtNumber.DECIMAL_PLACES, ccxtNumber.PAD_WITH_ZERO),
};
