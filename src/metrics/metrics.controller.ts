import { Controller, Get, Headers, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/public.decorator';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfigService,
  ) {}

  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    const access = metricsAccess(this.config, authorization);
    if (access === 'hidden') throw AppException.notFound('Metrics');
    if (access === 'unauthorized') throw AppException.unauthorized();
    return this.metrics.registry.metrics();
  }
}

/** The API's and the worker's rule: with METRICS_TOKEN set a bearer token is required; in production without one, nothing is served. */
export function metricsAccess(config: AppConfigService, authorization: string | undefined): 'ok' | 'hidden' | 'unauthorized' {
  const token = config.get('METRICS_TOKEN');
  if (!token && config.get('NODE_ENV') === 'production') return 'hidden';
  if (token && !sameSecret(authorization ?? '', `Bearer ${token}`)) return 'unauthorized';
  return 'ok';
}

/** Constant-time comparison (of digests, so lengths never leak either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
