import { pino, type Logger, type DestinationStream } from 'pino';
import type { Redis } from 'ioredis';
import type { Env } from './env.js';
import { RedisLogStream } from './log-stream.js';
import { REDACTED, scrubSecrets } from './secrets-scrub.js';

export type { Logger };

/** Field names whose values are key material, wherever they appear in a log entry. */
const SECRET_FIELDS = [
  'apiKey',
  'apiSecret',
  'api_key',
  'api_secret',
  'secret',
  'secretKey',
  'password',
  'passphrase',
  'masterKey',
  'master_key',
  'privateKey',
  'signature',
  'token',
  'authorization',
  'listenKey',
  'ATS_MASTER_KEY',
  'DATABASE_URL',
  '"x-mbx-apikey"',
  '"X-MBX-APIKEY"',
];

export const REDACT_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), ...SECRET_FIELDS.map((f) => `*.*.${f}`)];

export interface LoggerOptions {
  readonly component: string;
  readonly env: Pick<Env, 'LOG_LEVEL' | 'ATS_LOG_STREAM_LEVEL' | 'ATS_LOG_STREAM_MAXLEN'>;
  /** When given, warnings and errors (and info, per ATS_LOG_STREAM_LEVEL) also go to `ats:logs:*`. */
  readonly redis?: Redis;
  /** Where lines go locally; stdout by default. */
  readonly destination?: { write(line: string): unknown };
}

export interface RootLogger {
  readonly logger: Logger;
  readonly stream: RedisLogStream | undefined;
  /** Waits for buffered stream entries; call before exit. */
  flush(): Promise<void>;
}

/**
 * The one root logger of a process. Use `logger.child({ account_id })` per account: the
 * `account_id` field is what the global log streams carry.
 */
export function createRootLogger(opts: LoggerOptions): RootLogger {
  const local = opts.destination ?? process.stdout;
  const stream = opts.redis
    ? new RedisLogStream({
        redis: opts.redis,
        component: opts.component,
        level: opts.env.ATS_LOG_STREAM_LEVEL,
        maxLen: opts.env.ATS_LOG_STREAM_MAXLEN,
      })
    : undefined;
  const destination: DestinationStream = {
    write(line: string) {
      const clean = scrubSecrets(line);
      local.write(clean);
      stream?.write(clean);
    },
  };
  const logger = pino(
    {
      level: opts.env.LOG_LEVEL,
      base: { component: opts.component },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label, number) => ({ level: number, level_name: label }) },
    },
    destination,
  );
  return {
    logger,
    stream,
    flush: async () => {
      await stream?.drain();
    },
  };
}
