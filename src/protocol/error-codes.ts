/**
 * The contract's error codes (docs/PROTOCOL.md), in one list that the server's ErrorCode enum and
 * the SDK's types both come from; test/sdk-protocol.spec.ts fails when they disagree.
 */
export const ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'VALIDATION',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'LIMIT_REACHED',
  'FLOOR_NOT_HELD',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status of each code on REST. */
export const ERROR_HTTP_STATUS: { readonly [K in ErrorCode]: number } = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  LIMIT_REACHED: 409,
  FLOOR_NOT_HELD: 409,
  INTERNAL: 500,
};
