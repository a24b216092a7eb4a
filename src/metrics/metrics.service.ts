import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type WebhookOutcome = 'delivered' | 'retry' | 'failed' | 'skipped';
export type PushOutcome = 'sent' | 'gone' | 'refused' | 'retry';
export type JobOutcome = 'completed' | 'retry' | 'failed';

/**
 * Every Pigeon metric of a process. Code elsewhere records through the small methods at the end
 * (one call per fact), so label names and values stay in this file.
 */
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
  /** Receive to ack: the ack latency the server controls. */
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

  private readonly socketsConnected = new Gauge({
    name: 'pigeon_sockets_connected',
    help: 'Sockets connected to this node (namespace /rt)',
    registers: [this.registry],
  });
  private readonly socketConnects = new Counter({
    name: 'pigeon_socket_connects_total',
    help: 'Sockets that passed the handshake on this node',
    registers: [this.registry],
  });
  private readonly socketDisconnects = new Counter({
    name: 'pigeon_socket_disconnects_total',
    help: 'Socket disconnects on this node, by Socket.IO reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'pigeon_socket_deliveries_total',
    help: 'Server-to-client events written to sockets of this node (one per recipient socket; acks not counted)',
    registers: [this.registry],
  });
  private readonly emits = new Counter({
    name: 'pigeon_emits_total',
    help: 'Room emits made by this process (each reaches every node), by event',
    labelNames: ['event'],
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'pigeon_job_duration_seconds',
    help: 'BullMQ job run time (start to end of one attempt), by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly transcodeSeconds = new Histogram({
    name: 'pigeon_transcode_duration_seconds',
    help: 'ffmpeg run time of one voice transcode, by rendition (opus at upload, aac on first request)',
    labelNames: ['format'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly transcodeAudioSeconds = new Histogram({
    name: 'pigeon_transcode_audio_seconds',
    help: 'Audio length of each transcoded voice clip, by rendition',
    labelNames: ['format'],
    buckets: [1, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  private readonly transcodeRatio = new Histogram({
    name: 'pigeon_transcode_realtime_ratio',
    help: 'Transcode time divided by audio length (below 1: faster than real time), by rendition',
    labelNames: ['format'],
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [this.registry],
  });
  private readonly webhookOutcomes = new Counter({
    name: 'pigeon_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (retry: failed, another attempt follows; failed: given up)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly pushOutcomes = new Counter({
    name: 'pigeon_push_sends_total',
    help: 'Web Push sends, by outcome (gone: subscription expired and removed; retry: the job runs again)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly draining = new Gauge({
    name: 'pigeon_draining',
    help: '1 while this process shuts down (SIGTERM received)',
    registers: [this.registry],
  });

  constructor() {
    // Includes pigeon_nodejs_eventloop_lag_seconds (and its percentiles), RSS, heap, GC.
    collectDefaultMetrics({ register: this.registry, prefix: 'pigeon_' });
  }

  socketConnected(): void {
    this.socketConnects.inc();
    this.socketsConnected.inc();
  }

  socketDisconnected(reason: string): void {
    // Socket.IO's reasons are a small fixed set; anything else is folded so labels stay bounded.
    this.socketDisconnects.inc({ reason: /^[a-z ]{1,40}$/.test(reason) ? reason : 'other' });
    this.socketsConnected.dec();
  }

  delivered(count = 1): void {
    this.deliveries.inc(count);
  }

  emitted(event: string): void {
    this.emits.inc({ event });
  }

  jobFinished(queue: string, outcome: JobOutcome, seconds: number): void {
    this.jobDuration.observe({ queue, outcome }, seconds);
  }

  /** One voice transcode: ffmpeg's run time against the clip's audio length. */
  transcoded(format: 'opus' | 'aac', seconds: number, audioSeconds: number): void {
    this.transcodeSeconds.observe({ format }, seconds);
    this.transcodeAudioSeconds.observe({ format }, audioSeconds);
    if (audioSeconds > 0) this.transcodeRatio.observe({ format }, seconds / audioSeconds);
  }

  webhookOutcome(outcome: WebhookOutcome): void {
    this.webhookOutcomes.inc({ outcome });
  }

  pushOutcome(outcome: PushOutcome): void {
    this.pushOutcomes.inc({ outcome });
  }

  setDraining(): void {
    this.draining.set(1);
  }
}
