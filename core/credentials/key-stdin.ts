import { z } from 'zod';
import { AtsError } from '../errors.js';
import { registerSecret } from '../secrets-scrub.js';
import { acceptKeyPair, type KeyPair } from './key-pair.js';

/** What the local runtime hands a trader: its key pair and its own database and Redis logins. */
export interface TraderHandoff {
  readonly pair: KeyPair;
  readonly databaseUrl?: string | undefined;
  readonly redisUrl?: string | undefined;
}

const loginsSchema = z.object({ databaseUrl: z.string().url().optional(), redisUrl: z.string().url().optional() });

/**
 * Reads one key pair (`{"apiKey":…,"apiSecret":…}`, with the trader's own `databaseUrl` and
 * `redisUrl` when given) from standard input, as the local runtime hands them to a trader: the
 * child never sees the key store, the master key, another account's keys or the admin logins,
 * and nothing is written to disk or the environment.
 */
export async function readTraderHandoff(input: NodeJS.ReadableStream = process.stdin, timeoutMs = 10_000): Promise<TraderHandoff> {
  const chunks: Buffer[] = [];
  const text = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AtsError('ATS_CREDENTIALS_MISSING', `no key pair arrived on standard input within ${timeoutMs / 1000} s (--credentials-stdin)`)),
      timeoutMs,
    );
    input.on('data', (c: Buffer) => chunks.push(c));
    input.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    input.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Never echo the text: it is key material.
    throw new AtsError('ATS_CREDENTIALS_INVALID', 'the key pair on standard input is not JSON ({"apiKey":…,"apiSecret":…})');
  }
  const pair = acceptKeyPair(value as KeyPair, 'standard input');
  const logins = loginsSchema.safeParse(value);
  if (!logins.success) throw new AtsError('ATS_CREDENTIALS_INVALID', 'the databaseUrl or redisUrl on standard input is not a URL');
  for (const url of [logins.data.databaseUrl, logins.data.redisUrl]) {
    const password = url ? decodeURIComponent(new URL(url).password) : '';
    if (password) registerSecret(password);
  }
  return { pair, ...logins.data };
}
