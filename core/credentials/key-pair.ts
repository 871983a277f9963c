import { AtsError } from '../errors.js';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { registerSecret } from '../secrets-scrub.js';

export const keyPairSchema = z.object({
  apiKey: z.string().trim().min(1, 'the API key is empty'),
  apiSecret: z.string().trim().min(1, 'the API secret is empty'),
});

export type KeyPair = z.infer<typeof keyPairSchema>;

/** Validates a key pair and registers both values so no log line can ever print them. */
export function acceptKeyPair(input: unknown, where: string): KeyPair {
  const parsed = keyPairSchema.safeParse(input);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AtsError('ATS_CREDENTIALS_INVALID', `Invalid key pair in ${where}: ${problem}`);
  }
  registerSecret(parsed.data.apiKey);
  registerSecret(parsed.data.apiSecret);
  return parsed.data;
}

/** A display fingerprint that identifies a key without revealing it. */
export const keyFingerprint = (apiKey: string) => `sha256:${createHash('sha256').update(apiKey).digest('hex').slice(0, 12)}`;
