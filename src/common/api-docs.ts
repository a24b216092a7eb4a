import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ErrorCode } from './error-code';

/** One field of a `VALIDATION` error. */
export class ErrorDetailDto {
  @ApiProperty({ description: 'The field path, dotted for nested fields', example: 'body' })
  field: string;

  @ApiProperty({ description: 'What is wrong with it', example: 'body must be longer than or equal to 1 characters' })
  message: string;
}

/** The contract's REST error body (docs/PROTOCOL.md), as `toErrorBody` renders it. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'The HTTP status, repeated', example: 404 })
  statusCode: number;

  @ApiProperty({
    description: 'Contract error code',
    enum: ErrorCode,
    enumName: 'ErrorCode',
    example: ErrorCode.NOT_FOUND,
  })
  code: ErrorCode;

  @ApiProperty({ description: 'Human-readable explanation; not for matching', example: 'Channel not found' })
  message: string;

  @ApiPropertyOptional({ description: 'The fields of a VALIDATION error', type: [ErrorDetailDto] })
  details?: ErrorDetailDto[];

  @ApiPropertyOptional({ description: 'RATE_LIMITED only: wait this long before retrying', example: 1200 })
  retryAfterMs?: number;

  @ApiPropertyOptional({ description: 'INTERNAL only: the id the server logged the error under', format: 'uuid' })
  errorId?: string;
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/** What each status means everywhere; an operation may say more with `{ 404: 'Unknown channel' }`. */
const DEFAULT_ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Invalid input: wrong types, missing or unknown fields, malformed JSON (VALIDATION, with details)',
  401: 'Missing, invalid or expired access token (UNAUTHORIZED)',
  403: 'The caller can see the resource but may not do this (FORBIDDEN)',
  404: 'Unknown id, a non-UUID id, or something the caller may not see, e.g. another tenant (NOT_FOUND)',
  409: 'Conflicts with the current state (CONFLICT, or LIMIT_REACHED when a cap is hit)',
  413: 'Body or file larger than the configured limit (PAYLOAD_TOO_LARGE)',
  415: 'Unsupported media type (code VALIDATION)',
  429: 'Send rate limit reached (RATE_LIMITED): retry after retryAfterMs; also the Retry-After header, in seconds',
  503: 'Service unavailable',
};

/**
 * The error answers of one operation, each with the `ErrorResponseDto` body:
 * `@ApiErrorResponses(400, 401, { 404: 'Unknown channel', 409: 'Name taken' }, 429)`.
 * test/openapi.spec.ts holds every operation to the statuses it must list.
 */
export function ApiErrorResponses(...statuses: (ErrorStatus | Partial<Record<ErrorStatus, string>>)[]) {
  const described = new Map<ErrorStatus, string>();
  for (const entry of statuses) {
    if (typeof entry === 'number') {
      described.set(entry, DEFAULT_ERROR_DESCRIPTIONS[entry]);
      continue;
    }
    for (const [status, description] of Object.entries(entry)) {
      described.set(Number(status) as ErrorStatus, description);
    }
  }
  // Errors are JSON whatever the operation produces (e.g. audio), so the content type is spelled out.
  const content = { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } };
  return applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ...[...described].map(([status, description]) => ApiResponse({ status, description, content })),
  );
}

const ID_DESCRIPTIONS: Record<string, string> = {
  wid: 'Workspace id',
  cid: 'Channel id',
  uid: 'User id',
  mid: 'Message id',
  voiceId: 'voice.id of a voice message',
  id: 'Webhook id',
};

/** Path ids are UUIDs (a non-UUID answers 404): `@ApiIdParams('wid', 'cid')`. */
export function ApiIdParams(...names: string[]) {
  return applyDecorators(
    ...names.map((name) =>
      ApiParam({
        name,
        format: 'uuid',
        description: ID_DESCRIPTIONS[name] ?? 'Id',
        example: '0b8c2f5e-6f0a-4a43-9d7e-4a1f3c2b9e10',
      }),
    ),
  );
}
