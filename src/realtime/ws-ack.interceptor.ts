import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { catchError, map, Observable, of } from 'rxjs';
import { Ack, errorAck } from '../common/ws-ack';
import { MetricsService } from '../metrics/metrics.service';

export type { Ack } from '../common/ws-ack';

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
        const ack = errorAck(error, this.logger);
        this.metrics.socketEvents.inc({ event, outcome: ack.ok ? 'ok' : ack.error.code });
        return of(ack);
      }),
    );
  }
}
