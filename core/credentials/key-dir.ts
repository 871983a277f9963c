import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AtsError, describeError } from '../errors.js';
import { acceptKeyPair, type KeyPair } from './key-pair.js';

/**
 * Reads a key pair from a directory holding the files `apiKey` and `apiSecret` — the layout a
 * Kubernetes Secret mounted as a volume gives. Read at each call, so a rotated Secret is seen.
 */
export async function readKeyPairDir(dir: string): Promise<KeyPair> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      throw new AtsError(
        'ATS_CREDENTIALS_MISSING',
        `Cannot read ${name} in the credentials directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}. ` +
          'The Secret must have the keys apiKey and apiSecret.',
        { cause: err },
      );
    }
  };
  const [apiKey, apiSecret] = await Promise.all([read('apiKey'), read('apiSecret')]);
  try {
    return acceptKeyPair({ apiKey, apiSecret }, dir);
  } catch (err) {
    throw new AtsError('ATS_CREDENTIALS_INVALID', describeError(err), { cause: err });
  }
}
