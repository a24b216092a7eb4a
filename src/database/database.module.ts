import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfigService } from '../config/app-config.service';
import { dataSourceOptions } from './data-source-options';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) =>
        dataSourceOptions(config.get('DATABASE_URL'), config.get('DATABASE_POOL_SIZE')),
    }),
  ],
})
export class DatabaseModule {}
