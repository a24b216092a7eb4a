import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { QUEUES } from '../queues/queues';
import { MetricsService } from './metrics.service';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

/**
 * Worker only (one process reports each queue, so the series are not repeated per API node):
 * jobs per queue and state, read from Redis at scrape time.
 */
@Injectable()
export class QueueMetricsService implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const queues = Object.values(QUEUES).map((name) => this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    new Gauge({
      name: 'pigeon_queue_jobs',
      help: 'BullMQ jobs per queue and state (waiting is the depth; failed and completed are what BullMQ keeps)',
      labelNames: ['queue', 'state'],
      registers: [this.metrics.registry],
      async collect() {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES).catch(() => null)));
        this.reset();
        queues.forEach((queue, i) => {
          const c = counts[i];
          if (c) for (const state of STATES) this.set({ queue: queue.name, state }, c[state] ?? 0);
        });
      },
    });
  }
}
