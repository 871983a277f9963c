import { describe, expect, it } from 'vitest';
import { assignPools, poolMembers } from './pools.js';

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `acct-${String(i + from).padStart(3, '0')}` }));

describe('pool assignment', () => {
  it('fills pools up to the limit, lowest first', () => {
    const pools = poolMembers(assignPools(ids(7), 3));
    expect([...pools.keys()].sort()).toEqual(['pool-0', 'pool-1', 'pool-2']);
    expect(pools.get('pool-0')).toHaveLength(3);
    expect(pools.get('pool-2')).toHaveLength(1);
  });

  it('is stable: removing or adding accounts moves no other account', () => {
    const first = assignPools(ids(7), 3);
    const previous = (id: string) => first.get(id);
    // acct-001 leaves; two accounts join.
    const next = assignPools(
      [...ids(7).filter((a) => a.id !== 'acct-001'), ...ids(2, 7)].map((a) => ({ ...a, previous: previous(a.id) })),
      3,
    );
    for (const [id, pool] of first) if (id !== 'acct-001') expect(next.get(id)).toBe(pool);
    // The freed place in pool-0 is taken first, then the last pool's room.
    expect([next.get('acct-007'), next.get('acct-008')]).toEqual(['pool-0', 'pool-2']);
  });

  it('a lowered limit moves only the accounts that no longer fit, and a bad previous name counts as none', () => {
    const first = assignPools(ids(4), 4);
    const next = assignPools(
      ids(4).map((a) => ({ ...a, previous: first.get(a.id) })),
      2,
    );
    expect(poolMembers(next).get('pool-0')).toEqual(['acct-000', 'acct-001']);
    expect(poolMembers(next).get('pool-1')).toEqual(['acct-002', 'acct-003']);
    expect(assignPools([{ id: 'a', previous: 'pool-x' }], 5).get('a')).toBe('pool-0');
  });
});
