/** The contract's error codes (docs/PROTOCOL.md) and the HTTP status each maps to. */
export enum ErrorCode {
  UNAUTHORIZED = 'UNAUTHORIZED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  VALIDATION = 'VALIDATION',
  CONFLICT = 'CONFLICT',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED = 'RATE_LIMITED',
  LIMIT_REACHED = 'LIMIT_REACHED',
  FLOOR_NOT_HELD = 'FLOOR_NOT_HELD',
  INTERNAL = 'INTERNAL',
}

export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.VALIDATION]: 400,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.LIMIT_REACHED]: 409,
  [ErrorCode.FLOOR_NOT_HELD]: 409,
  [ErrorCode.INTERNAL]: 500,
};

export function codeOfHttpStatus(status: number): ErrorCode {
  switch (status) {
    case 400: return ErrorCode.VALIDATION;
    case 401: return ErrorCode.UNAUTHORIZED;
    case 403: return ErrorCode.FORBIDDEN;
    case 404: return ErrorCode.NOT_FOUND;
    case 409: return ErrorCode.CONFLICT;
    case 413: return ErrorCode.PAYLOAD_TOO_LARGE;
    case 415: return ErrorCode.VALIDATION;
    case 429: return ErrorCode.RATE_LIMITED;
    default: return status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION;
  }
}
