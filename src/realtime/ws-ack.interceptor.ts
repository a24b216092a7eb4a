import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { catchError, map, Observable, of } from 'rxjs';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { MetricsService } from '../metrics/metrics.service';

export type Ack<T = unknown> =
  | { ok: true; data: T }
  | { ok: false; error: { code: ErrorCode; message: string; retryAfterMs?: number; details?: unknown } };

/** Turns every handler's result or error into the contract's ack, so one bad event never escapes its socket. */
@Injectable()
export class WsAckInterceptor implements NestInterceptor {
  private readonly logger = new Logger('WsAck');

  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<Ack> {
    const event = context.switchToWs().getPattern();
    const end = this.metrics.socketEventDuration.startTimer({ event });
    return next.handle().pipe(
      map((data: unknown): Ack => {
        end();
        this.metrics.socketEvents.inc({ event, outcome: 'ok' });
        return { ok: true, data: data ?? {} };
      }),
      catchError((error: unknown) => {
        end();
        const ack = this.toErrorAck(error);
        this.metrics.socketEvents.inc({ event, outcome: ack.ok ? 'ok' : ack.error.code });
        return of(ack);
      }),
    );
  }

  private toErrorAck(error: unknown): Ack {
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
    this.logger.error({ err: error, errorId }, 'Unhandled socket handler error');
    return { ok: false, error: { code: ErrorCode.INTERNAL, message: `Internal error (${errorId})` } };
  }
}
