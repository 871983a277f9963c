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
