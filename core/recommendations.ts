import type { Redis } from 'ioredis';
import { z } from 'zod';
import { channelOf, redisKeys } from './redis-contract.js';

/** One global trade recommendation, as marketdata publishes it and traders read it. */
export const recommendationSchema = z.object({
  /** Deterministic per strategy, symbol, interval and bar: the same signal keeps its id. */
  id: z.string(),
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  entry: z.number().positive(),
  stopLoss: z.number().positive(),
  takeProfit: z.number().positive(),
  /** 0..1, higher is stronger. */
  score: z.number().min(0).max(1),
  reason: z.string(),
  strategy: z.string(),
  interval: z.string(),
  barTime: z.number(),
  /** Wall-clock ms after which a trader must not act on it. */
  expiresAt: z.number(),
});
export type Recommendation = z.infer<typeof recommendationSchema>;

/** `ats:recommendations:snapshot` */
export const recommendationsSnapshotSchema = z.object({
  version: z.number().int().positive(),
  generatedAt: z.number(),
  recommendations: z.array(recommendationSchema),
});
export type RecommendationsSnapshot = z.infer<typeof recommendationsSnapshotSchema>;

/**
 * Publishes a new snapshot: the next version, the snapshot key, and the notification traders
 * react to. The one way recommendations reach the traders.
 */
export async function publishSnapshot(redis: Redis, recommendations: Recommendation[], generatedAt = Date.now()): Promise<RecommendationsSnapshot> {
  const version = await redis.incr(redisKeys.recommendationsVersion());
  const snapshot = recommendationsSnapshotSchema.parse({ version, generatedAt, recommendations });
  await redis.set(redisKeys.recommendationsSnapshot(), JSON.stringify(snapshot));
  await redis.publish(channelOf(redis, redisKeys.recommendationsChannel()), JSON.stringify({ version }));
  return snapshot;
}
