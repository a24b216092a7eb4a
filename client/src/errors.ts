import { ERROR_HTTP_STATUS } from '../../src/protocol/error-codes';
import type { ErrorBody, PigeonErrorCode, ValidationDetail } from './types';

/**
 * Every failure the SDK reports, REST or socket: a server error (REST body, ack `{ok:false}`,
 * `connect_error`) or one of the SDK's own (`ClientErrorCode`).
 */
export class PigeonError extends Error {
  override readonly name = 'PigeonError';
  readonly code: PigeonErrorCode;
  /** HTTP status: the REST answer's, or the contract's status of the code for socket errors; 0 when nothing was answered. */
  readonly status: number;
  readonly retryAfterMs?: number;
  /** The fields of a `VALIDATION` error. */
  readonly details?: ValidationDetail[];
  /** Set on `send` failures so the caller can retry later with the same id, without duplicates. */
  clientMsgId?: string;

  constructor(code: PigeonErrorCode, message: string, retryAfterMs?: number, status?: number, details?: ValidationDetail[]) {
    super(message);
    this.code = code;
    this.status = status ?? (ERROR_HTTP_STATUS as Record<string, number>)[code] ?? 0;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    if (details !== undefined) this.details = details;
  }

  static fromBody(body: ErrorBody): PigeonError {
    return new PigeonError(body.code, body.message, body.retryAfterMs, undefined, Array.isArray(body.details) ? body.details : undefined);
  }

  /** A non-2xx REST answer; a body outside the contract still yields a code from the status. */
  static fromResponse(status: number, body: unknown, retryAfterHeader?: string | null): PigeonError {
    const data = (body && typeof body === 'object' ? body : {}) as Partial<ErrorBody> & { message?: unknown };
    const code = typeof data.code === 'string' ? data.code : codeOfStatus(status);
    const message = typeof data.message === 'string' ? data.message : `HTTP ${status}`;
    let retryAfterMs = typeof data.retryAfterMs === 'number' ? data.retryAfterMs : undefined;
    if (retryAfterMs === undefined && retryAfterHeader && /^\d+$/.test(retryAfterHeader)) retryAfterMs = Number(retryAfterHeader) * 1000;
    return new PigeonError(code, message, retryAfterMs, status, Array.isArray(data.details) ? data.details : undefined);
  }
}

function codeOfStatus(status: number): PigeonErrorCode {
  for (const [code, codeStatus] of Object.entries(ERROR_HTTP_STATUS)) if (codeStatus === status) return code;
  return status >= 500 ? 'INTERNAL' : status === 415 ? 'VALIDATION' : 'BAD_RESPONSE';
}

/**
 * Turns a Socket.IO `connect_error` into a PigeonError. Middleware refusals carry
 * `data: {code, message}` and the code as `message`; transport failures carry neither.
 */
export function connectErrorToPigeonError(error: Error & { data?: unknown }): PigeonError {
  const data = error.data as Partial<ErrorBody> | undefined;
  if (data && typeof data === 'object' && typeof data.code === 'string') {
    const retryAfterMs = typeof data.retryAfterMs === 'number' && data.retryAfterMs >= 0 ? data.retryAfterMs : undefined;
    return new PigeonError(data.code, typeof data.message === 'string' ? data.message : error.message, retryAfterMs);
  }
  if (/^[A-Z_]+$/.test(error.message)) return new PigeonError(error.message, error.message);
  return new PigeonError('CONNECT_FAILED', error.message);
}
