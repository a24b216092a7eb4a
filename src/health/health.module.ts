import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DrainService } from './drain.service';
import { HealthController } from './health.controller';

@Global()
@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [DrainService], exports: [DrainService] })
export class HealthModule {}
