import { describe, expect, it } from 'vitest';
import { fillsOfPosition, summarize, type Fill } from './position-fills.js';

let nextId = 100;
const fill = (orderId: string, side: 'buy' | 'sell', qty: string, price: string, realizedPnl = '0', commission = '0.01'): Fill => ({
  id: String(nextId++),
  orderId,
  side,
  qty,
  price,
  quoteQty: '0',
  maker: false,
  realizedPnl,
  commission,
  commissionAsset: 'USDT',
  time: nextId * 1000,
});

describe('the fills of a position', () => {
  it('takes a re-entered symbol apart: the previous long is not the new short', () => {
    const long = [fill('1', 'buy', '0.5', '600'), fill('2', 'sell', '0.5', '640', '20.00000000', '0.16')];
    const short = [fill('3', 'sell', '0.3', '641'), fill('4', 'buy', '0.2', '650', '-1.80000000'), fill('5', 'buy', '0.1', '652', '-1.10000000')];
    const found = fillsOfPosition([...long, ...short], new Set(['3']))!;
    expect(found.closed).toBe(true);
    expect(found.fills.map((f) => f.orderId)).toEqual(['3', '4', '5']);
    const result = summarize(found.fills, 'short');
    expect(result).toMatchObject({ quantity: '0.3', realizedPnl: '-2.9', fees: '0.03' });
    expect(result.entryPrice).toBe('641');
    expect(result.exitPrice).toBe('650.66666666');
  });

  it('follows a partially filled entry and a manual close it did not place', () => {
    const fills = [fill('7', 'buy', '0.004', '60000'), fill('7', 'buy', '0.006', '60010'), fill('99', 'sell', '0.01', '60100', '0.96000000')];
    const found = fillsOfPosition(fills, new Set(['7']))!;
    expect(found).toMatchObject({ closed: true });
    expect(summarize(found.fills, 'long')).toMatchObject({ quantity: '0.01', entryPrice: '60006', realizedPnl: '0.96', fees: '0.03' });
  });

  it('reports an open position as not closed yet', () => {
    expect(fillsOfPosition([fill('8', 'sell', '1', '2')], new Set(['8']))).toMatchObject({ closed: false });
  });

  it('finds an adopted position backward from its last fill to the last flat point', () => {
    const earlier = [fill('20', 'buy', '2', '10'), fill('21', 'sell', '2', '11', '2')];
    const adopted = [fill('30', 'sell', '1', '12'), fill('31', 'sell', '1', '12'), fill('32', 'buy', '2', '11', '2')];
    const found = fillsOfPosition([...earlier, ...adopted], new Set())!;
    expect(found.fills.map((f) => f.orderId)).toEqual(['30', '31', '32']);
  });

  it('keeps fees paid in another asset apart', () => {
    const fills = [fill('40', 'buy', '1', '10'), { ...fill('41', 'sell', '1', '11', '1'), commissionAsset: 'BNB', commission: '0.0001' }];
    expect(summarize(fills, 'long')).toMatchObject({ fees: '0.01', otherFees: [{ asset: 'BNB', amount: '0.0001' }] });
  });
});
