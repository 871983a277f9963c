import { describe, expect, it } from 'vitest';
import { decimal } from './decimal.js';

describe('decimal money arithmetic', () => {
  it('sums exactly where floats do not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(decimal.eq(decimal.add('0.1', '0.2'), '0.3')).toBe(true);
    expect(decimal.sum(['0.07234447', '0.07234448', '-0.00000001'])).toBe('0.14468894');
  });

  it('rounds half away from zero to a fixed number of places', () => {
    expect(decimal.round('543.4789297297297', 2)).toBe('543.48');
    expect(decimal.round('-105.175', 2)).toBe('-105.18');
    expect(decimal.round('-0.004', 2)).toBe('0.00');
    expect(decimal.round('25978.800000000003', 1)).toBe('25978.8');
    expect(decimal.round('7', 3)).toBe('7.000');
    expect(decimal.round('0.99999', 0)).toBe('1');
  });

  it('divides with a bounded number of places', () => {
    expect(decimal.div('10', '3', 4)).toBe('3.3333');
    expect(decimal.div('1', '0')).toBeUndefined();
  });
});
