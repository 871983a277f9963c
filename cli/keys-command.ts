import { Command } from 'commander';
import { AtsError } from '../core/errors.js';
import { table } from '../core/table.js';
import { localKeyStore } from '../core/credentials/local-key-store.js';
import { readKeyPairDir } from '../core/credentials/key-dir.js';

export const keysCommand = () => {
  const keys = new Command('keys').description("the local runtime's encrypted key store");
  keys
    .command('set')
    .description('store an account key pair, encrypted (from --from-dir, or ATS_API_KEY / ATS_API_SECRET)')
    .requiredOption('--account <id>', 'account id')
    .option('--from-dir <dir>', 'a directory with the files apiKey and apiSecret')
    .action(async (opts: { account: string; fromDir?: string }) => {
      const pair = opts.fromDir ? await readKeyPairDir(opts.fromDir) : { apiKey: process.env.ATS_API_KEY ?? '', apiSecret: process.env.ATS_API_SECRET ?? '' };
      if (!opts.fromDir && (!pair.apiKey || !pair.apiSecret)) {
        throw new AtsError(
          'ATS_CREDENTIALS_MISSING',
          'No key pair given: set ATS_API_KEY and ATS_API_SECRET, or pass --from-dir DIR with the files apiKey and apiSecret.',
        );
      }
      const { fingerprint } = localKeyStore().put(opts.account, pair);
      console.log(`stored key pair for ${opts.account} (${fingerprint})`);
    });
  keys
    .command('list')
    .description('list stored accounts with key fingerprints (never the keys)')
    .action(() => {
      const store = localKeyStore();
      const ids = store.list();
      if (ids.length === 0) return void console.log('No key pairs stored.');
      console.log(
        table(
          ['ACCOUNT', 'KEY FINGERPRINT'],
          ids.map((id) => [id, store.fingerprint(id)]),
        ),
      );
    });
  keys
    .command('remove')
    .requiredOption('--account <id>', 'account id')
    .action((opts: { account: string }) => {
      localKeyStore().remove(opts.account);
      console.log(`removed key pair for ${opts.account}`);
    });
  return keys;
};
