/**
 * A program for `trader/account-isolation.test.ts`: a process started as every ats process is
 * (`startProcess`), with two accounts' work in their scopes as a trader pool runs them. One
 * socket handler throws, as the account named by FIXTURE_THROW_AS (empty: no account's work).
 * A pool's handler (`AccountPool.crashed`) is stood in for by one that prints the account.
 */
import { createServer, connect } from 'node:net';
import { startProcess } from '../core/process.js';
import { asAccount, currentAccount } from '../trader/account-scope.js';

const ctx = startProcess('fixture');
ctx.onUncaught((err) => {
  const account = currentAccount();
  if (account === undefined) return false;
  console.log(`crashed ${account}: ${err instanceof Error ? err.message : String(err)}`);
  return true;
});

const throwAs = process.env.FIXTURE_THROW_AS ?? '';
const server = createServer((socket) => socket.end('tick')).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const { port } = server.address() as { port: number };

const work = () => {
  const socket = connect(port, '127.0.0.1');
  socket.on('data', () => {
    throw new Error('thrown in a socket handler');
  });
};
if (throwAs) asAccount(throwAs, work);
else work();
asAccount('acct-b', () =>
  setTimeout(() => {
    console.log(`acct-b still running as ${currentAccount()}`);
    server.close();
    ctx.redis.disconnect();
    process.exit(0);
  }, 500),
);
