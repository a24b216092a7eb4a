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
    const token = this.config.get('METRICS_TOKEN');
    // In production the metrics are never public: without a token there is nothing here.
    if (!token && this.config.get('NODE_ENV') === 'production') throw AppException.notFound('Metrics');
    if (token && !sameSecret(authorization ?? '', `Bearer ${token}`)) throw AppException.unauthorized();
    return this.metrics.registry.metrics();
  }
}

/** Constant-time comparison (of digests, so lengths never leak either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
