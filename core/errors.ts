/**
 * Coded errors: the code tells a caller (and a person reading a log) what went wrong without
 * parsing the message, and `cause` keeps the original error for debugging.
 */
export class AtsError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AtsError';
    this.code = code;
  }
}

export const isAtsError = (err: unknown, code?: string): err is AtsError =>
  err instanceof AtsError && (code === undefined || err.code === code);
