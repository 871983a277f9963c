import { describe, expect, it } from 'vitest';
import { planAccount } from './plan.js';
import { parseSpec } from './spec.js';

const spec = parseSpec({ displayName: 'Alice', exchange: 'demo', secretRef: { name: 'alice-binance' } });
const bad = parseSpec({ displayName: 'Alice', exchange: 'kraken', secretRef: { name: 'alice-binance' } });

describe('planning one account (shared by the Kubernetes and the local reconciler)', () => {
  it('runs the trader of a valid account with its key, and looks again for the status', () => {
    const plan = planAccount({ deleting: false, spec, keyProblem: undefined });
    expect(plan).toMatchObject({ records: 'sync', trader: 'run', requeueAfterMs: 30_000 });
    expect(plan.spec?.displayName).toBe('Alice');
  });

  it('keeps the records and config of an account without its key, runs no trader and says what to do', () => {
    expect(planAccount({ deleting: false, spec, keyProblem: 'create the Secret' })).toMatchObject({
      records: 'sync',
      trader: 'stop',
      keyProblem: 'create the Secret',
    });
  });

  it('changes nothing for a spec the code refuses, says why and does not retry', () => {
    const plan = planAccount({ deleting: false, spec: bad, keyProblem: undefined });
    expect(plan).toMatchObject({ records: 'leave', trader: 'leave' });
    expect(plan.specError).toMatch(/^spec.exchange: expected live, demo/);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  it('stops the trader of a deleted account and keeps its records, marked retired, whatever else is wrong', () => {
    expect(planAccount({ deleting: true, spec: bad, keyProblem: 'gone' })).toEqual({ records: 'retire', trader: 'stop' });
  });
});
