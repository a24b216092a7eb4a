import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { Public } from '../auth/public.decorator';
import { REDIS } from '../redis/redis.module';
import { DrainService } from './drain.service';
import { SystemScope } from '../tenancy/system-scope.decorator';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly drain: DrainService,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness', description: 'Answers 200 while the process runs; no auth.' })
  live() {
    return this.health.check([]);
  }

  // Its `SELECT 1` reads no tenant data, but every statement needs a context.
  @SystemScope('health.ready')
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness',
    description: 'Checks Postgres and Redis (2 s each); 503 when either is down or the node is shutting down, for load balancers. No auth.',
  })
  ready() {
    return this.health.check([
      // A node shutting down (SIGTERM) answers 503 so load balancers send nobody new.
      ...(this.drain.draining ? [() => this.indicators.check('shutdown').down({ message: 'shutting down' })] : []),
      () => this.database.pingCheck('postgres', { timeout: 2000 }),
      async () => {
        const indicator = this.indicators.check('redis');
        try {
          const pong = await Promise.race([
            this.redis.ping(),
            new Promise<string>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000)),
          ]);
          return pong === 'PONG' ? indicator.up() : indicator.down({ message: pong });
        } catch (error) {
          return indicator.down({ message: String(error) });
        }
      },
    ]);
  }
}
