import { createHash } from 'node:crypto';
import { ORDER_PURPOSES, type OrderPurpose } from '../core/runtime-values.js';

export type Purpose = OrderPurpose;
const TAG: Record<Purpose, string> = { entry: 'e', stop_loss: 's', take_profit: 't', close: 'c' };

/**
 * The client order id of an order: a pure function of the account, the recommendation and the
 * order's purpose, so a retry or a restart sends the same id and the exchange never opens twice.
 * Binance allows `^[.A-Z:/a-z0-9_-]{1,36}$`.
 */
export const clientOrderId = (accountId: string, recommendationId: string, purpose: Purpose) =>
  `ats-${TAG[purpose]}-${createHash('sha256').update(`${accountId}\n${recommendationId}`).digest('hex').slice(0, 28)}`;

export const isOurs = (id: string | undefined) => typeof id === 'string' && /^ats-[estc]-[0-9a-f]{28}$/.test(id);

export const purposeOf = (id: string): Purpose | undefined => ORDER_PURPOSES.find((p) => id.startsWith(`ats-${TAG[p]}-`));
