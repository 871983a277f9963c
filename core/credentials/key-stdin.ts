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

const loginsSchema = z.object({
  databaseUrl: z.string().url().optional(),
  redisUrl: z.string().url().optional(),
  /** Only for the console of the local runtime, which stores key pairs people enter. */
  masterKey: z.string().min(1).optional(),
});

/** What the local runtime hands marketdata: its own database and Redis logins. */
export type LoginsHandoff = z.infer<typeof loginsSchema>;

/**
 * Reads one key pair (`{"apiKey":…,"apiSecret":…}`, with the trader's own `databaseUrl` and
 * `redisUrl` when given) from standard input, as the local runtime hands them to a trader: the
 * child never sees the key store, the master key, another account's keys or the admin logins,
 * and nothing is written to disk or the environment.
 */
export async function readTraderHandoff(input: NodeJS.ReadableStream = process.stdin, timeoutMs = 10_000): Promise<TraderHandoff> {
  const value = await readStdinJson(input, timeoutMs, 'key pair', '{"apiKey":…,"apiSecret":…}', '--credentials-stdin');
  return { pair: acceptKeyPair(value as KeyPair, 'standard input'), ...acceptLogins(value) };
}

/** Reads `{"databaseUrl":…,"redisUrl":…}` from standard input, as the local runtime hands marketdata its own logins. */
export async function readLoginsHandoff(input: NodeJS.ReadableStream = process.stdin, timeoutMs = 10_000): Promise<LoginsHandoff> {
  return acceptLogins(await readStdinJson(input, timeoutMs, 'logins', '{"databaseUrl":…,"redisUrl":…}', '--logins-stdin'));
}

async function readStdinJson(input: NodeJS.ReadableStream, timeoutMs: number, what: string, shape: string, flag: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  const text = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AtsError('ATS_CREDENTIALS_MISSING', `no ${what} arrived on standard input within ${timeoutMs / 1000} s (${flag})`)),
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
  try {
    return JSON.parse(text);
  } catch {
    // Never echo the text: it is key material.
    throw new AtsError('ATS_CREDENTIALS_INVALID', `the ${what} on standard input is not JSON (${shape})`);
  }
}

/** The logins in a handoff; their passwords are scrubbed from every log line from now on. */
function acceptLogins(value: unknown): LoginsHandoff {
  const logins = loginsSchema.safeParse(value);
  if (!logins.success) throw new AtsError('ATS_CREDENTIALS_INVALID', 'the databaseUrl or redisUrl on standard input is not a URL (or the masterKey is empty)');
  if (logins.data.masterKey) registerSecret(logins.data.masterKey);
  for (const url of [logins.data.databaseUrl, logins.data.redisUrl]) {
    const password = url ? decodeURIComponent(new URL(url).password) : '';
    if (password) registerSecret(password);
  }
  return logins.data;
}
