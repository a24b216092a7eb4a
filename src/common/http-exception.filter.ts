import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { AppException } from './app.exception';
import { codeOfHttpStatus, ErrorCode } from './error-code';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  details?: { field: string; message: string }[];
  retryAfterMs?: number;
  errorId?: string;
}

/** Maps any thrown error to the contract's `{statusCode, code, message, details?}`. */
export function toErrorBody(exception: unknown, logger: Logger): ErrorBody {
  if (exception instanceof AppException) {
    return {
      statusCode: exception.httpStatus,
      code: exception.code,
      message: exception.message,
      ...(exception.details ? { details: exception.details } : {}),
      ...(exception.retryAfterMs !== undefined ? { retryAfterMs: exception.retryAfterMs } : {}),
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    if (typeof response === 'object' && response && 'message' in response) {
      const m = (response as { message: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    if (status >= 500) logger.error(exception);
    return { statusCode: status, code: codeOfHttpStatus(status), message };
  }
  // body-parser errors are plain errors with a status/type
  const raw = exception as { status?: number; type?: string; message?: string };
  if (raw && raw.type === 'entity.too.large') {
    return { statusCode: 413, code: ErrorCode.PAYLOAD_TOO_LARGE, message: 'Request body too large' };
  }
  if (raw && raw.type === 'entity.parse.failed') {
    return { statusCode: 400, code: ErrorCode.VALIDATION, message: 'Malformed JSON body' };
  }
  if (raw && typeof raw.status === 'number' && raw.status >= 400 && raw.status < 500) {
    return { statusCode: raw.status, code: codeOfHttpStatus(raw.status), message: raw.message ?? 'Bad request' };
  }
  const errorId = randomUUID();
  logger.error({ err: exception, errorId }, 'Unhandled error');
  return { statusCode: 500, code: ErrorCode.INTERNAL, message: 'Internal error', errorId };
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toErrorBody(exception, this.logger);
    if (body.code === ErrorCode.RATE_LIMITED && body.retryAfterMs !== undefined) {
      response.setHeader('Retry-After', String(Math.ceil(body.retryAfterMs / 1000)));
    }
    response.status(body.statusCode).json(body);
  }
}
