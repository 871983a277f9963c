import { randomBytes } from 'node:crypto';

/**
 * A login's password: `keep` when it is one this made before (setting it again, e.g. after a
 * Redis restart), else a new random one. Hex only, so it is safe inside an SQL literal or an ACL
 * rule, which take no bind parameters.
 */
export function loginPassword(keep?: string): string {
  return keep && /^[0-9a-f]{48}$/.test(keep) ? keep : randomBytes(24).toString('hex');
}

/** `adminUrl` (a Postgres or Redis URL) with another user name and password. */
export function loginUrl(adminUrl: string, user: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = user;
  url.password = password;
  return url.toString();
}

/** The password in a login URL (for `keep`), if there is one. */
export function passwordOf(url: string | undefined): string | undefined {
  return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
}
