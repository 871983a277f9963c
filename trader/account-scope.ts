import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';

/**
 * Which account a piece of work belongs to, carried by Node's async context: the timers,
 * sockets and promises an account's work creates stay that account's. A trader pool runs each
 * account in its scope, so an error that escapes all of an account's own handling (a throw in a
 * callback nobody awaits, such as a socket's event handler) still names its account: that account
 * alone goes to its error state and starts again with backoff, the process and the others go on.
 */
const scope = new AsyncLocalStorage<string>();

/** Runs `fn` as the account's work: everything it starts carries the account. */
export function asAccount<T>(accountId: string, fn: () => T): T {
  return scope.run(accountId, fn);
}

/** The account whose work is running, if any. */
export function currentAccount(): string | undefined {
  return scope.getStore();
}

/**
 * A callback that will be called from shared code (one connection's event handler serving many
 * accounts) bound to the caller's context: it runs as the account that registered it, and a
 * throw in it is that account's (raised on its own, so the shared code's other callbacks still run).
 */
export function boundToCaller<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return AsyncResource.bind((...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  });
}
