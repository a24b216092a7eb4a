import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobEventsService } from './job-events.service';
import { QueueMetricsService } from './queue-metrics.service';
import { WorkerHttpServer } from './worker-http.server';

/** Worker only: job logs and metrics, queue gauges, and the worker's HTTP port. */
@Module({
  imports: [DiscoveryModule],
  providers: [JobEventsService, QueueMetricsService, WorkerHttpServer],
  exports: [JobEventsService, WorkerHttpServer],
})
export class WorkerMetricsModule {}
