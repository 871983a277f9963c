import { requestPriority } from './priority.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../redis.js';
import { createTestRedis, type TestRedis } from '../../testing/services.js';
import { startTestSimulator, type TestSimulator } from '../../testing/simulator.js';
import { createGovernedClient } from './governed-factory.js';
import { RateGovernor } from './governor.js';
import type { BinanceClient } from './binance-client.js';

/** One "process": its own Redis connection, governor and ccxt client, sharing only Redis. */
async function process_(t: TestSimulator, r: TestRedis, maxWaitMs: number) {
  const redis = createRedis(r.env);
  const governor = new RateGovernor({ redis, maxWaitMs });
  const client = await createGovernedClient({ exchange: t.url, governor });
  return { redis, governor, client };
}

describe('rate-limit governor', () => {
  let t: TestSimulator;
  let r: TestRedis;
  const opened: Array<{ redis: { disconnect(): void }; client: BinanceClient }> = [];

  beforeAll(async () => {
    t = await startTestSimulator({ limits: { requestWeightPerMinute: 60, banAfterViolations: 0 } });
    r = createTestRedis();
  });
  afterAll(async () => {
    for (const p of opened) {
      await p.client.close().catch(() => undefined);
      p.redis.disconnect();
    }
    await r.cleanup();
    await t.close();
  });

  it('keeps many processes under a low limit: no 429 and no 418 at the exchange', async () => {
    const procs = await Promise.all(Array.from({ length: 8 }, () => process_(t, r, 1_500)));
    opened.push(...procs);
    // The limit is learnt from exchangeInfo: 60/min, budget 48 with the 20% margin.
    await procs[0]!.governor.setLimits((await procs[0]!.client.fapiPublicGetExchangeInfo()).rateLimits);
    await t.admin('DELETE', '/counters');
    const outcomes = await Promise.all(
      procs.flatMap((p) =>
        Array.from({ length: 10 }, () =>
          p.client.fapiPublicGetTime().then(
            () => 'ok',
            (e: Error) => (e.message.includes('budget is exhausted') ? 'waited-out' : e.message),
          ),
        ),
      ),
    );
    const counters = await t.admin<{ sent429: number; sent418: number; requestsByEndpoint: Record<string, number> }>('GET', '/counters');
    expect(counters.sent429).toBe(0);
    expect(counters.sent418).toBe(0);
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'waited-out')).toEqual([]);
    const sent = counters.requestsByEndpoint['GET /fapi/v1/time'] ?? 0;
    expect(sent).toBe(outcomes.filter((o) => o === 'ok').length);
    // Budget 48 per minute; at most two minutes are touched by this burst.
    expect(sent).toBeLessThanOrEqual(96);
    expect(sent).toBeGreaterThan(0);
  });

  it('pauses every process until Retry-After when the exchange answers 429', async () => {
    await t.admin('POST', '/limits', { requestWeightPerMinute: 6000 });
    const procs = await Promise.all(Array.from({ length: 4 }, () => process_(t, r, 30_000)));
    opened.push(...procs);
    await procs[0]!.governor.setLimits([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }]);
    await t.admin('POST', '/faults', { reject429: { count: 1, retryAfterSeconds: 2 } });
    await expect(procs[0]!.client.fapiPublicGetTime()).rejects.toThrow(/Too many requests/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await procs[1]!.governor.pausedFor()).toBeGreaterThan(1_500);
    const started = Date.now();
    await Promise.all(procs.slice(1).map((p) => p.client.fapiPublicGetTime()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_700);
  });

  it('signs a request after its wait for budget: one that waited longer than recvWindow is not refused (-1021)', async () => {
    await t.admin('POST', '/limits', { requestWeightPerMinute: 6000 });
    const account = t.account(1_000);
    const redis = createRedis(r.env);
    const governor = new RateGovernor({ redis, maxWaitMs: 30_000 });
    const client = await createGovernedClient({ exchange: t.url, governor, apiKey: account.apiKey, apiSecret: account.apiSecret });
    opened.push({ redis, client });
    (client.options as Record<string, unknown>).recvWindow = 1_000;
    await client.loadMarkets();
    // The node is paused (as after a 429) for longer than the request's recvWindow.
    await governor.pauseFor(2, 429);
    const started = Date.now();
    const balance = await client.fetchBalance();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(balance['USDT']?.total).toBe(1_000);
  });

  it('keeps the last of each minute for what protects money: background reads wait, entries and stop-losses go on', async () => {
    const redis = createRedis(r.env);
    const minuteStart = Math.floor(Date.now() / 60_000) * 60_000;
    const governor = new RateGovernor({ redis, maxWaitMs: 300, now: () => minuteStart, egress: 'node-a' });
    await governor.setLimits([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1000 }]);
    // Budget 800 (20 % margin): background work may fill 60 % of it, reconciliation 75 %, entries 90 %.
    await governor.acquire(480, 'background');
    await expect(governor.acquire(1, 'background')).rejects.toThrow(/budget is exhausted/);
    await governor.acquire(120, 'reconcile');
    await expect(governor.acquire(1, 'reconcile')).rejects.toThrow(/budget is exhausted/);
    await governor.acquire(120, 'entry');
    await expect(governor.acquire(1, 'entry')).rejects.toThrow(/budget is exhausted/);
    await governor.acquire(80, 'protect');
    await expect(governor.acquire(1, 'protect')).rejects.toThrow(/budget is exhausted/);
    // Another egress (another node's IP) has a budget of its own; a pause there is not a pause here.
    const other = new RateGovernor({ redis, maxWaitMs: 300, now: () => minuteStart, egress: 'node-b' });
    await other.acquire(480, 'background');
    await other.pauseFor(5, 429);
    expect(await governor.pausedFor()).toBe(0);
    redis.disconnect();
  });

  it("holds each account to its share of the minute below protect, so a busy account never starves another's requests", async () => {
    const redis = createRedis(r.env);
    const minuteStart = Math.floor(Date.now() / 60_000) * 60_000;
    const governor = new RateGovernor({ redis, maxWaitMs: 300, now: () => minuteStart, egress: 'node-share' });
    await governor.setLimits([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1000 }]);
    // Budget 800: one account may spend 10 % (80) of it on anything but protection.
    await governor.acquire(80, 'reconcile', 'greedy');
    await expect(governor.acquire(1, 'entry', 'greedy')).rejects.toThrow(/budget is exhausted/);
    await governor.acquire(5, 'protect', 'greedy');
    await governor.acquire(80, 'reconcile', 'other');
    redis.disconnect();
  });

  it('gives protective orders the top priority whatever asks for them', () => {
    const q = (s: string) => new URLSearchParams(s);
    expect(requestPriority('POST', '/fapi/v1/algoOrder', q('algoType=CONDITIONAL'))).toBe('protect');
    expect(requestPriority('DELETE', '/fapi/v1/order', q('symbol=BTCUSDT'))).toBe('protect');
    expect(requestPriority('POST', '/fapi/v1/order', q('reduceOnly=true'))).toBe('protect');
    expect(requestPriority('GET', '/fapi/v3/account', q(''))).toBe('reconcile');
  });

  it('counts orders per account and waits instead of exceeding the order limit', async () => {
    const redis = createRedis(r.env);
    // A clock fixed at the start of a 10 s window, so the four orders cannot straddle two windows.
    const windowStart = Math.floor(Date.now() / 10_000) * 10_000;
    const governor = new RateGovernor({ redis, maxWaitMs: 500, now: () => windowStart });
    await governor.setLimits([{ rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 5 }]);
    // Budget 4 per 10 s with the margin: the fifth order waits, and here gives up after 500 ms.
    for (let i = 0; i < 4; i++) await governor.acquireOrder('alice');
    await expect(governor.acquireOrder('alice')).rejects.toThrow(/budget is exhausted/);
    await governor.acquireOrder('bob');
    redis.disconnect();
  });
});
