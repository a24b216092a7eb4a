import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'pigeon_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly socketEvents = new Counter({
    name: 'pigeon_socket_events_total',
    help: 'Client-to-server socket events handled, by event and outcome',
    labelNames: ['event', 'outcome'],
    registers: [this.registry],
  });
  readonly socketEventDuration = new Histogram({
    name: 'pigeon_socket_event_duration_seconds',
    help: 'Socket event handling latency, receive to ack',
    labelNames: ['event'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly commitBatchSize = new Histogram({
    name: 'pigeon_message_commit_batch_size',
    help: 'Sends committed per channel transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 200],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pigeon_' });
  }
}
