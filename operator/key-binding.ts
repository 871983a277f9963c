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
  return other
    ? `this API key (${fingerprint}) is already bound to account ${other.id}: an API key serves one account; give ${accountId} a key of its own`
    : undefined;
}

/** Why a Kubernetes Secret may not serve this account, or undefined: it must name the account in its `ats.dev/account` label or annotation. */
export function secretMarkProblem(secretName: string, namespace: string, accountId: string, mark: string | undefined): string | undefined {
  if (mark === accountId) return undefined;
  const fix = `kubectl -n ${namespace} annotate secret ${secretName} ${ACCOUNT_MARK}=${accountId}`;
  return mark
    ? `Secret ${secretName} is marked for account ${mark}, not ${accountId} (${ACCOUNT_MARK}): a Secret serves one account`
    : `Secret ${secretName} is not marked for account ${accountId}: mark it with \`${fix}\`, then the trader starts`;
}
