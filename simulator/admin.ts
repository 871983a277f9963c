import { z } from 'zod';
import type { Simulator } from './server.js';
import { faultsSchema } from './http/faults.js';

const accountSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  apiKey: z.string().min(8),
  apiSecret: z.string().min(8),
  balance: z.number().nonnegative().default(10_000),
});
const priceSchema = z.object({ symbol: z.string(), price: z.number().positive() });
const clockSchema = z.object({ speed: z.number().min(0).max(1_000_000).optional(), advanceMs: z.number().int().min(0).optional() });
const limitsSchema = z.object({
  requestWeightPerMinute: z.number().int().min(1).optional(),
  ordersPerTenSeconds: z.number().int().min(1).optional(),
  ordersPerMinute: z.number().int().min(1).optional(),
  banAfterViolations: z.number().int().min(0).optional(),
});

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const parse = <T>(schema: z.ZodType<T>, body: unknown): T => {
  const result = schema.safeParse(body);
  if (!result.success) throw new AdminError(400, result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return result.data;
};

/**
 * The simulator's admin API (`/_sim/...`, JSON, no auth, loopback only) for tests, demos and
 * benchmarks. Nothing here ever returns key material.
 */
export function handleAdmin(sim: Simulator, method: string, path: string, query: URLSearchParams, body: unknown, ip: string): unknown {
  const { engine } = sim;
  const route = `${method} ${path.replace(/^\/_sim/, '')}`;
  let match: RegExpMatchArray | null;
  if (route === 'POST /accounts') {
    const a = parse(accountSchema, body);
    if (engine.byApiKey(a.apiKey)) throw new AdminError(409, 'an account with this API key exists');
    return { id: sim.createAccount(a).id };
  }
  if (route === 'GET /accounts') return engine.accounts().map((a) => sim.accountSummary(a.id));
  if ((match = route.match(/^GET \/accounts\/([^/]+)$/))) return sim.accountSummary(decodeURIComponent(match[1]!));
  if ((match = route.match(/^POST \/accounts\/([^/]+)\/expire-listen-key$/))) {
    sim.userStreams.expireNow(decodeURIComponent(match[1]!));
    return { ok: true };
  }
  if (route === 'POST /price') {
    const p = parse(priceSchema, body);
    if (!engine.symbols.has(p.symbol)) throw new AdminError(404, `unknown symbol ${p.symbol}`);
    engine.book.setPrice(p.symbol, p.price);
    engine.tick();
    return { symbol: p.symbol, markPrice: engine.mark(p.symbol) };
  }
  if (route === 'GET /price') {
    const symbol = query.get('symbol') ?? '';
    if (!engine.symbols.has(symbol)) throw new AdminError(404, `unknown symbol ${symbol}`);
    const book = engine.depth(symbol, 1);
    return {
      symbol,
      markPrice: engine.mark(symbol),
      lastPrice: engine.last(symbol),
      bidPrice: book.bids[0]?.price,
      askPrice: book.asks[0]?.price,
      marketTime: engine.book.clock.now(),
    };
  }
  if (route === 'POST /clock') {
    const c = parse(clockSchema, body);
    if (c.speed !== undefined) engine.book.clock.setSpeed(c.speed);
    if (c.advanceMs) engine.book.clock.advance(c.advanceMs);
    engine.tick();
    return { speed: engine.book.clock.speed, marketTime: engine.book.clock.now() };
  }
  if (route === 'POST /faults') {
    const f = parse(faultsSchema, body);
    if (f.latencyMs !== undefined) sim.faults.latencyMs = f.latencyMs;
    if (f.clockSkewMs !== undefined) sim.faults.clockSkewMs = f.clockSkewMs;
    if (f.fail5xx) sim.faults.fail5xx = { remaining: f.fail5xx.count, status: f.fail5xx.status, pathPrefix: f.fail5xx.pathPrefix };
    if (f.reject429) sim.faults.reject429 = { remaining: f.reject429.count, retryAfterSeconds: f.reject429.retryAfterSeconds };
    if (f.ban418) sim.limiter.ban(f.ban418.ip ?? ip, f.ban418.seconds * 1000);
    if (f.dropSockets) sim.dropSockets();
    if (f.partialFill) engine.partialFills = { remaining: f.partialFill.count, ratio: f.partialFill.ratio };
    return { ok: true };
  }
  if (route === 'DELETE /faults') {
    sim.faults.clear();
    engine.partialFills = undefined;
    return { ok: true };
  }
  if (route === 'POST /limits') {
    const l = parse(limitsSchema, body);
    Object.assign(sim.limiter.limits, Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)));
    return sim.limiter.limits;
  }
  if (route === 'GET /counters') return sim.counters();
  if (route === 'DELETE /counters') {
    sim.resetCounters();
    return { ok: true };
  }
  throw new AdminError(404, `no admin route ${route}`);
}
