import type { Db } from '../core/db/connection.js';

/** The label or annotation on a Secret that names the one account allowed to use it. */
export const ACCOUNT_MARK = 'ats.dev/account';

/**
 * Why the account may not use this API key, or undefined: a key (by its fingerprint, a hash of
 * the API key) serves one account, the first that was bound to it and is not deleted.
 */
export async function keyBoundElsewhere(db: Db, accountId: string, fingerprint: string): Promise<string | undefined> {
  const other = await db
    .selectFrom('accounts')
    .select('id')
    .where('key_fingerprint', '=', fingerprint)
    .where('id', '<>', accountId)
    .where('status', '<>', 'deleted')
    .executeTakeFirst();
  return other ? boundElsewhere(accountId, fingerprint, other.id) : undefined;
}

/**
 * Every key bound to an account that is not deleted, by fingerprint, in one query: a pass over
 * hundreds of pooled accounts asks `keyBoundIn` instead of querying per account.
 */
export async function boundKeys(db: Db): Promise<ReadonlyMap<string, readonly string[]>> {
  const rows = await db
    .selectFrom('accounts')
    .select(['id', 'key_fingerprint'])
    .where('key_fingerprint', 'is not', null)
    .where('status', '<>', 'deleted')
    .execute();
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.key_fingerprint!, [...(out.get(r.key_fingerprint!) ?? []), r.id]);
  return out;
}

/** `keyBoundElsewhere` over what `boundKeys` read. */
export function keyBoundIn(bound: ReadonlyMap<string, readonly string[]>, accountId: string, fingerprint: string): string | undefined {
  const other = bound.get(fingerprint)?.find((id) => id !== accountId);
  return other ? boundElsewhere(accountId, fingerprint, other) : undefined;
}

const boundElsewhere = (accountId: string, fingerprint: string, other: string) =>
  `this API key (${fingerprint}) is already bound to account ${other}: an API key serves one account; give ${accountId} a key of its own`;

/** Why a Kubernetes Secret may not serve this account, or undefined: it must name the account in its `ats.dev/account` label or annotation. */
export function secretMarkProblem(secretName: string, namespace: string, accountId: string, mark: string | undefined): string | undefined {
  if (mark === accountId) return undefined;
  const fix = `kubectl -n ${namespace} annotate secret ${secretName} ${ACCOUNT_MARK}=${accountId}`;
  return mark
    ? `Secret ${secretName} is marked for account ${mark}, not ${accountId} (${ACCOUNT_MARK}): a Secret serves one account`
    : `Secret ${secretName} is not marked for account ${accountId}: mark it with \`${fix}\`, then the trader starts`;
}
