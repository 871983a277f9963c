import { z } from 'zod';

/** Faults a test can inject through the admin API. */
export const faultsSchema = z.object({
  /** Added to every REST response (ms). */
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  /** The next `count` REST requests (optionally only under `pathPrefix`) fail with `status`. */
  fail5xx: z.object({ count: z.number().int().min(1), status: z.number().int().min(500).max(599).default(503), pathPrefix: z.string().optional() }).optional(),
  /** The next `count` REST requests get 429 with `Retry-After: retryAfterSeconds`. */
  reject429: z.object({ count: z.number().int().min(1), retryAfterSeconds: z.number().int().min(1).default(5) }).optional(),
  /** Bans the calling IP (or `ip`) with 418 for this many seconds. */
  ban418: z.object({ seconds: z.number().int().min(1), ip: z.string().optional() }).optional(),
  /** The server clock runs this many ms ahead (negative: behind) of the real time. */
  clockSkewMs: z.number().int().optional(),
  /** Closes every open WebSocket connection now. */
  dropSockets: z.boolean().optional(),
  /** The next `count` fills of resting limit orders take only `ratio` of what is left (the rest keeps resting). */
  partialFill: z.object({ count: z.number().int().min(1), ratio: z.number().gt(0).lt(1) }).optional(),
});

export type FaultRequest = z.infer<typeof faultsSchema>;

export class Faults {
  latencyMs = 0;
  clockSkewMs = 0;
  fail5xx: { remaining: number; status: number; pathPrefix?: string | undefined } | undefined;
  reject429: { remaining: number; retryAfterSeconds: number } | undefined;
  sent5xx = 0;

  clear(): void {
    this.latencyMs = 0;
    this.clockSkewMs = 0;
    this.fail5xx = undefined;
    this.reject429 = undefined;
  }

  /** Takes one injected 5xx for this path, if any is pending. */
  take5xx(path: string): number | undefined {
    const f = this.fail5xx;
    if (!f || f.remaining <= 0 || (f.pathPrefix && !path.startsWith(f.pathPrefix))) return undefined;
    f.remaining -= 1;
    this.sent5xx += 1;
    return f.status;
  }

  take429(): number | undefined {
    const f = this.reject429;
    if (!f || f.remaining <= 0) return undefined;
    f.remaining -= 1;
    return f.retryAfterSeconds;
  }
}
