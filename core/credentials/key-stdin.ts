import { AtsError } from '../errors.js';
import { acceptKeyPair, type KeyPair } from './key-pair.js';

/**
 * Reads one key pair (`{"apiKey":…,"apiSecret":…}`) from standard input, as the local runtime
 * hands it to a trader: the child never sees the key store, the master key or another account's
 * keys, and nothing is written to disk or the environment.
 */
export async function readKeyPairStdin(input: NodeJS.ReadableStream = process.stdin, timeoutMs = 10_000): Promise<KeyPair> {
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
  return acceptKeyPair(value as KeyPair, 'standard input');
}
