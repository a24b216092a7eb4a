import type { ErrorBody, PigeonErrorCode } from './types';

/** An error from the server (ack `{ok:false}` or `connect_error`) or from the SDK itself. */
export class PigeonError extends Error {
  override readonly name = 'PigeonError';
  readonly code: PigeonErrorCode;
  readonly retryAfterMs?: number;
  /** Set on `send` failures so the caller can retry later with the same id, without duplicates. */
  clientMsgId?: string;

  constructor(code: PigeonErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }

  static fromBody(body: ErrorBody): PigeonError {
    return new PigeonError(body.code, body.message, body.retryAfterMs);
  }
}

/**
 * Turns a Socket.IO `connect_error` into a PigeonError. Middleware refusals carry
 * `data: {code, message}` and the code as `message`; transport failures carry neither.
 */
export function connectErrorToPigeonError(error: Error & { data?: unknown }): PigeonError {
  const data = error.data as Partial<ErrorBody> | undefined;
  if (data && typeof data === 'object' && typeof data.code === 'string') {
    return new PigeonError(data.code, typeof data.message === 'string' ? data.message : error.message);
  }
  if (/^[A-Z_]+$/.test(error.message)) return new PigeonError(error.message, error.message);
  return new PigeonError('CONNECT_FAILED', error.message);
}
