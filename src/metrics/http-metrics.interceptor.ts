import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, finalize } from 'rxjs';
import { MetricsService } from './metrics.service';

@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    const end = this.metrics.httpDuration.startTimer();
    return next.handle().pipe(
      finalize(() => {
        // Route patterns, not raw paths, keep label cardinality bounded.
        const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
        end({ method: request.method, route, status: String(response.statusCode) });
      }),
    );
  }
}
