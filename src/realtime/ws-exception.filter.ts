import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';

/**
 * Errors that escape the ack interceptor (guards run before interceptors) still answer the
 * contract's error ack instead of Nest's `exception` event.
 */
@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ack = host.getArgByIndex<unknown>(2);
    if (typeof ack !== 'function') return;
    if (exception instanceof AppException) {
      ack({ ok: false, error: { code: exception.code, message: exception.message } });
      return;
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, 'Unhandled socket error');
    ack({ ok: false, error: { code: ErrorCode.INTERNAL, message: `Internal error (${errorId})` } });
  }
}
