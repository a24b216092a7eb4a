import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';

/**
 * The shared BullMQ connection for processes that only produce jobs (the API). Feature modules
 * register the queues they use with `BullModule.registerQueue`; the worker configures its own.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) => ({
        connection: { url: config.get('REDIS_URL'), maxRetriesPerRequest: null },
        // BullMQ keys live under REDIS_PREFIX: another deployment's worker never takes these jobs.
        prefix: `${config.get('REDIS_PREFIX')}:bull`,
      }),
    }),
  ],
})
export class QueueConnectionModule {}
