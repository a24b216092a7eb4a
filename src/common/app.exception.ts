import { ErrorCode, HTTP_STATUS_OF } from './error-code';

export interface FieldError {
  field: string;
  message: string;
}

/** A domain error that carries a contract code; the HTTP and socket layers render it. */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
    readonly retryAfterMs?: number,
    /** Overrides the code's usual status, e.g. 415 for an unsupported media type. */
    readonly httpStatus: number = HTTP_STATUS_OF[code],
  ) {
    super(message);
    this.name = 'AppException';
  }

  static notFound(what = 'Resource'): AppException {
    return new AppException(ErrorCode.NOT_FOUND, `${what} not found`);
  }

  static forbidden(message = 'Not allowed'): AppException {
    return new AppException(ErrorCode.FORBIDDEN, message);
  }

  static conflict(message: string): AppException {
    return new AppException(ErrorCode.CONFLICT, message);
  }

  static validation(message: string, details?: FieldError[]): AppException {
    return new AppException(ErrorCode.VALIDATION, message, details);
  }

  static unauthorized(message = 'Authentication required'): AppException {
    return new AppException(ErrorCode.UNAUTHORIZED, message);
  }

  static rateLimited(retryAfterMs: number): AppException {
    return new AppException(ErrorCode.RATE_LIMITED, 'Too many requests', undefined, retryAfterMs);
  }
}
