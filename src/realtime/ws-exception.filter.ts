import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { errorAck } from '../common/ws-ack';

/**
 * Errors that escape the ack interceptor (guards run before interceptors) still answer the
 * contract's error ack, rendered as the interceptor renders it, instead of Nest's `exception` event.
 */
@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ack = host.getArgByIndex<unknown>(2);
    if (typeof ack === 'function') ack(errorAck(exception, this.logger));
  }
}
