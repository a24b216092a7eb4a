import { LoggerModule } from 'nestjs-pino';
import { AccessModule } from './access/access.module';
import { loggerParams } from './common/logging';
import { AppConfigService } from './config/app-config.service';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { FanoutModule } from './fanout/fanout.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';

/** What both processes stand on: config, logs, Postgres, Redis, access, fan-out, limits, metrics. */
export const INFRASTRUCTURE_MODULES = [
  AppConfigModule,
  LoggerModule.forRootAsync({ inject: [AppConfigService], useFactory: (config: AppConfigService) => loggerParams(config.get('LOG_LEVEL')) }),
  DatabaseModule,
  RedisModule,
  AccessModule,
  FanoutModule,
  RateLimitModule,
  MetricsModule,
];
