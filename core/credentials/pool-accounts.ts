import { createInterface } from 'node:readline';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AtsError, describeError } from '../errors.js';
import { registerSecret } from '../secrets-scrub.js';
import { acceptKeyPair, keyFingerprint, type KeyPair } from './key-pair.js';

/** One account of a trader pool, as handed to the pool: its key pair and its exchange. */
export interface PoolAccount {
  readonly pair: KeyPair;
  /** live, demo, testnet, or a simulator URL; unset: the pool's own (`--exchange`, ATS_EXCHANGE). */
  readonly exchange?: string | undefined;
}

/** The accounts a pool runs now, by account id. */
export type PoolAccounts = ReadonlyMap<string, PoolAccount>;

/** When this changes for an account, its worker starts again (a rotated key, another exchange). */
export const poolAccountFingerprint = (a: PoolAccount) => `${a.exchange ?? ''}|${keyFingerprint(a.pair.apiKey)}|${keyFingerprint(a.pair.apiSecret)}`;

const messageSchema = z.object({
  databaseUrl: z.string().url().optional(),
  redisUrl: z.string().url().optional(),
  accounts: z.record(z.string(), z.object({ apiKey: z.string(), apiSecret: z.string(), exchange: z.string().optional() })),
});

/** What the local runtime hands a pool on standard input, one JSON line per change. */
export interface PoolHandoff {
  readonly databaseUrl?: string | undefined;
  readonly redisUrl?: string | undefined;
  readonly accounts: PoolAccounts;
}

/**
 * Reads the pool's handoffs from standard input, one JSON object per line, as `ats up` sends them:
 * the first at start (with the pool's own database and Redis logins), then a new one each time an
 * account joins, leaves or changes. Resolves with the first; `onChange` gets the later ones. A
 * line that does not read is reported and skipped (the accounts stay as they were). Every key and
 * password is scrubbed from the logs from the moment it arrives; none is ever echoed.
 */
export async function readPoolHandoffs(
  onChange: (handoff: PoolHandoff) => void,
  onProblem: (message: string) => void,
  input: NodeJS.ReadableStream = process.stdin,
  timeoutMs = 10_000,
): Promise<PoolHandoff> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let first: ((h: PoolHandoff) => void) | undefined;
  const started = new Promise<PoolHandoff>((resolve, reject) => {
    // Only a handoff that reads counts: an empty or broken first line still times out.
    const timer = setTimeout(
      () => reject(new AtsError('ATS_CREDENTIALS_MISSING', `no accounts arrived on standard input within ${timeoutMs / 1000} s (--credentials-stdin)`)),
      timeoutMs,
    );
    first = (h) => {
      clearTimeout(timer);
      resolve(h);
    };
  });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let handoff: PoolHandoff;
    try {
      handoff = parseHandoff(line);
    } catch (err) {
      return onProblem(describeError(err));
    }
    if (first) {
      first(handoff);
      first = undefined;
    } else onChange(handoff);
  });
  return started;
}

function parseHandoff(line: string): PoolHandoff {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // Never echo the text: it is key material.
    throw new AtsError('ATS_CREDENTIALS_INVALID', 'a line on standard input is not JSON ({"accounts":{"<id>":{"apiKey":…,"apiSecret":…}}})');
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success)
    throw new AtsError('ATS_CREDENTIALS_INVALID', `the accounts on standard input do not read: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  for (const url of [parsed.data.databaseUrl, parsed.data.redisUrl]) {
    const password = url ? decodeURIComponent(new URL(url).password) : '';
    if (password) registerSecret(password);
  }
  const accounts = new Map<string, PoolAccount>();
  for (const [id, a] of Object.entries(parsed.data.accounts)) accounts.set(id, { pair: acceptKeyPair(a, `the handoff of ${id}`), exchange: a.exchange });
  return { databaseUrl: parsed.data.databaseUrl, redisUrl: parsed.data.redisUrl, accounts };
}

/**
 * The accounts in a pool's mounted Secret (the operator assembles it from the accounts' Secrets):
 * `<account>.apiKey`, `<account>.apiSecret` and, when the account's exchange is not the pool's,
 * `<account>.exchange`. Read at each call: the kubelet swaps the files in place when the Secret
 * changes, and the pool follows without a restart. An account whose files do not read is left
 * out and reported; the others go on.
 */
export async function readPoolDir(dir: string, onProblem: (message: string) => void): Promise<PoolAccounts> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new AtsError('ATS_CREDENTIALS_MISSING', `cannot read the pool's credentials directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
  const ids = names.filter((n) => n.endsWith('.apiKey')).map((n) => n.slice(0, -'.apiKey'.length));
  const accounts = new Map<string, PoolAccount>();
  await Promise.all(
    ids.map(async (id) => {
      try {
        const read = (what: string) => readFile(join(dir, `${id}.${what}`), 'utf8');
        const [apiKey, apiSecret, exchange] = await Promise.all([read('apiKey'), read('apiSecret'), read('exchange').catch(() => undefined)]);
        accounts.set(id, { pair: acceptKeyPair({ apiKey, apiSecret }, `${dir} (${id})`), exchange: exchange?.trim() || undefined });
      } catch (err) {
        onProblem(`account ${id}: ${describeError(err)}`);
      }
    }),
  );
  return accounts;
}
