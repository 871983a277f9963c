import { InvalidArgumentError } from 'commander';

/** The placements an account may have: a trader of its own, or a place in a trader pool. */
export const PLACEMENTS = ['dedicated', 'pooled'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** Parses `--placement` / `--default-placement`. */
export const placementOption = (value: string): Placement => {
  if (!(PLACEMENTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${PLACEMENTS.join(' or ')}`);
  return value as Placement;
};

/** Accounts per pool unless the installation says otherwise (Helm `trader.pool.maxAccounts`, `ats up --pool-size`). */
export const DEFAULT_POOL_MAX_ACCOUNTS = 100;

/** A pool's name: `pool-0`, `pool-1`, … (the workload and its Secret are named after it). */
export const poolName = (index: number) => `pool-${index}`;
const poolIndex = (name: string | undefined) => (name && /^pool-(0|[1-9]\d{0,4})$/.test(name) ? Number(name.slice(5)) : undefined);

/**
 * Places pooled accounts into pools of at most `maxAccounts`, stably: an account stays in the pool
 * it was in (`previous`, from its status) while that pool has room for it, so adding or removing
 * accounts never moves the others; a new account, or one its pool no longer has room for (the
 * limit was lowered), goes to the lowest-numbered pool with room, else a new one. Pure: both
 * reconcilers (Kubernetes and local) call it with what they observe.
 */
export function assignPools(accounts: ReadonlyArray<{ id: string; previous?: string | undefined }>, maxAccounts: number): Map<string, string> {
  const max = Math.max(1, Math.floor(maxAccounts));
  const members = new Map<number, string[]>();
  const placed = new Map<string, string>();
  const waiting: string[] = [];
  // Sorted, so that who keeps a place in an over-full pool does not depend on listing order.
  for (const a of [...accounts].sort((x, y) => x.id.localeCompare(y.id))) {
    const index = poolIndex(a.previous);
    const list = index === undefined ? undefined : (members.get(index) ?? []);
    if (index === undefined || list === undefined || list.length >= max) {
      waiting.push(a.id);
      continue;
    }
    list.push(a.id);
    members.set(index, list);
    placed.set(a.id, poolName(index));
  }
  for (const id of waiting) {
    let index = 0;
    while ((members.get(index)?.length ?? 0) >= max) index += 1;
    members.set(index, [...(members.get(index) ?? []), id]);
    placed.set(id, poolName(index));
  }
  return placed;
}

/** The accounts of each pool, from an assignment. */
export function poolMembers(assignment: ReadonlyMap<string, string>): Map<string, string[]> {
  const pools = new Map<string, string[]>();
  for (const [id, pool] of assignment) pools.set(pool, [...(pools.get(pool) ?? []), id]);
  for (const list of pools.values()) list.sort();
  return pools;
}
