/**
 * Values of key material known to this process (API keys, secrets, the master key). Every log
 * line is scrubbed of them before it leaves the process, whatever field or message they hide in;
 * field-name redaction in the logger is the first line of defence, this is the second.
 */
const knownSecrets = new Set<string>();

export const REDACTED = '[REDACTED]';

/** Remember a secret value so that it can never be printed. Short values are refused as noise. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** A connection URL fit to print: any user name and password replaced (redis://***@host:6379). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
