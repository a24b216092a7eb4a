import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';

export type Ack<T = unknown> =
  | { ok: true; data: T }
  | { ok: false; error: { code: ErrorCode; message: string; retryAfterMs?: number; details?: unknown } };

/**
 * The contract's error ack for anything a socket handler (or a guard before it) threw: the code,
 * message, retryAfterMs and details of an AppException; an unknown error is INTERNAL with a logged
 * error id. The one renderer of the WS interceptor and the WS filter.
 */
export function errorAck(error: unknown, logger: Logger): Ack<never> {
  if (error instanceof AppException) {
    return {
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        ...(error.details ? { details: error.details } : {}),
      },
    };
  }
  const errorId = randomUUID();
  logger.error({ err: error, errorId }, 'Unhandled socket handler error');
  return { ok: false, error: { code: ErrorCode.INTERNAL, message: `Internal error (${errorId})` } };
}
