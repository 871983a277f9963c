/** Every code an AtsError can carry: a caller (and a person reading a log) can rely on the list. */
export const ATS_ERROR_CODES = [
  'ATS_ACCOUNT_ID_INVALID',
  'ATS_ALREADY_UP',
  'ATS_BAD_OPTION',
  'ATS_CACHE_TIMEOUT',
  'ATS_CONFIG_INVALID',
  'ATS_CONSOLE_PORT_BUSY',
  'ATS_CREDENTIALS_INVALID',
  'ATS_CREDENTIALS_MISSING',
  'ATS_DATABASE_UNREACHABLE',
  'ATS_EMBEDDED_POSTGRES_FAILED',
  'ATS_ENV_INVALID',
  'ATS_EXCHANGE_INVALID',
  'ATS_MASTER_KEY_INVALID',
  'ATS_MASTER_KEY_WRONG',
  'ATS_MIGRATION_FAILED',
  'ATS_SCHEMA_BEHIND',
  'ATS_NOT_ACTIVE',
  'ATS_NOT_CONNECTED',
  'ATS_NOT_RUNNING',
  'ATS_NO_EMBEDDED_POSTGRES',
  'ATS_NO_REDIS',
  'ATS_RATE_BUDGET_EXHAUSTED',
  'ATS_REDIS_VALUE_INVALID',
  'ATS_SIM_PORT_BUSY',
  'ATS_TRACKING_NOT_RESTORED',
  'ATS_UNKNOWN_ACCOUNT',
  'ATS_UNKNOWN_USER',
] as const;
export type AtsErrorCode = (typeof ATS_ERROR_CODES)[number];

/**
 * Coded errors: the code tells a caller (and a person reading a log) what went wrong without
 * parsing the message, and `cause` keeps the original error for debugging.
 */
export class AtsError extends Error {
  readonly code: AtsErrorCode;

  constructor(code: AtsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AtsError';
    this.code = code;
  }
}

export const isAtsError = (err: unknown, code?: AtsErrorCode): err is AtsError => err instanceof AtsError && (code === undefined || err.code === code);

/** The one way an error goes into a log line or a status: its message, on one line, at most 300 characters. */
export const describeError = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 300);
