import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a request is for, highest first. Each may fill the node's weight budget only up to its
 * share, so the last part of every minute's budget is kept for what protects money: when many
 * accounts reconcile or snapshot at once, their reads wait while stop-losses, closes and entries
 * still go out.
 */
export const PRIORITIES = ['protect', 'entry', 'reconcile', 'background'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The share of the budget each priority may fill. */
export const PRIORITY_SHARE: Readonly<Record<Priority, number>> = { protect: 1, entry: 0.9, reconcile: 0.75, background: 0.6 };

const context = new AsyncLocalStorage<Priority>();

/** Runs `fn` with every exchange request it makes (however deep) at this priority. */
export const withPriority = <T>(priority: Priority, fn: () => Promise<T>): Promise<T> => context.run(priority, fn);

/**
 * A request's priority: protective orders and their cancels are `protect` whatever asks for
 * them; otherwise what the caller runs under (`withPriority`), else `reconcile`.
 */
export function requestPriority(method: string, path: string, query: URLSearchParams): Priority {
  const p = path.replace(/^.*?(\/fapi\/)/, '$1');
  if (/\/fapi\/v1\/(algoOrder|algoOpenOrders)$/.test(p) && method !== 'GET') return 'protect';
  if (p === '/fapi/v1/order' && (method === 'DELETE' || query.get('reduceOnly') === 'true' || query.get('closePosition') === 'true')) return 'protect';
  return context.getStore() ?? 'reconcile';
}
