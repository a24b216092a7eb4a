import { Controller, Get, Headers, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
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
    if (token && authorization !== `Bearer ${token}`) throw AppException.unauthorized();
    return this.metrics.registry.metrics();
  }
}
