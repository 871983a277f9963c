import { Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'ats_';

/**
 * One registry per process, with Node's default process metrics under the `ats_` prefix and a
 * `component` label, so that one Prometheus job can scrape every ats process alike.
 */
export function createMetricsRegistry(component: string, labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component, ...labels });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
