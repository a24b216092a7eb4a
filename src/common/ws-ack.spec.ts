import { Logger } from '@nestjs/common';
import { WsExceptionFilter } from '../realtime/ws-exception.filter';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { errorAck } from './ws-ack';

const silent = { error: () => undefined } as unknown as Logger;

describe(errorAck.name, () => {
  it('carries code, message, retryAfterMs and details of a domain error', () => {
    const rateLimited = AppException.rateLimited(1500);
    expect(errorAck(rateLimited, silent)).toEqual({
      ok: false,
      error: { code: ErrorCode.RATE_LIMITED, message: 'Too many requests', retryAfterMs: 1500 },
    });
    const invalid = AppException.validation('Invalid field: body', [{ field: 'body', message: 'body must not be empty' }]);
    expect(errorAck(invalid, silent)).toEqual({
      ok: false,
      error: { code: ErrorCode.VALIDATION, message: 'Invalid field: body', details: [{ field: 'body', message: 'body must not be empty' }] },
    });
  });

  it('answers anything else INTERNAL with an error id, never its message', () => {
    const ack = errorAck(new Error('password=hunter2'), silent);
    expect(ack.ok).toBe(false);
    if (!ack.ok) {
      expect(ack.error.code).toBe(ErrorCode.INTERNAL);
      expect(ack.error.message).toMatch(/^Internal error \([0-9a-f-]{36}\)$/);
    }
  });

  it('is what the WS filter answers too (guards throw before the interceptor)', () => {
    const sut = new WsExceptionFilter();
    const acks: unknown[] = [];
    const host = { getArgByIndex: (i: number) => (i === 2 ? (a: unknown) => acks.push(a) : undefined) } as never;
    sut.catch(AppException.rateLimited(250), host);
    expect(acks).toEqual([errorAck(AppException.rateLimited(250), silent)]);
  });
});
