import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Job, Worker } from 'bullmq';
import { JobOutcome, MetricsService } from './metrics.service';

/**
 * Worker only: one info line when a job starts and one when it ends (queue, id, attempt, duration,
 * outcome; never its data), the job-duration metric, and the jobs still running at shutdown.
 */
@Injectable()
export class JobEventsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');
  private readonly workers: Worker[] = [];
  /** Jobs this process is running now, with the lock token needed to hand one back. */
  private readonly active = new Map<string, { job: Job; token?: string }>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!(instance instanceof WorkerHost)) continue;
      const worker = instance.worker;
      this.workers.push(worker);
      this.watch(worker);
    }
  }

  private watch(worker: Worker): void {
    const queue = worker.name;
    const key = (job: Job) => `${queue}:${job.id}`;
    worker.on('active', (job: Job, _prev: string) => {
      this.active.set(key(job), { job, token: job.token });
      this.logger.log({ queue, jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 }, `job started ${queue}/${job.id}`);
    });
    worker.on('completed', (job: Job) => this.ended(queue, key(job), job, 'completed'));
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (!job) return;
      // attemptsMade already counts this attempt when `failed` fires.
      const final = error?.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      this.ended(queue, key(job), job, final ? 'failed' : 'retry', error);
    });
  }

  private ended(queue: string, key: string, job: Job, outcome: JobOutcome, error?: Error): void {
    this.active.delete(key);
    const ms = job.processedOn ? Math.max(0, (job.finishedOn ?? Date.now()) - job.processedOn) : 0;
    this.metrics.jobFinished(queue, outcome, ms / 1000);
    const fields = { queue, jobId: job.id, job: job.name, attempt: job.attemptsMade, durationMs: ms, outcome, ...(error ? { error: error.message.slice(0, 200) } : {}) };
    const line = `job ${outcome} ${queue}/${job.id} in ${ms}ms`;
    if (outcome === 'failed') this.logger.warn(fields, line);
    else this.logger.log(fields, line);
  }

  /** Stops taking jobs and waits for the running ones (BullMQ `close()`), at most `ms`. */
  async closeWorkers(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(this.workers.map((w) => w.close())).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return finished;
  }

  /** Hands every still-running job back to its queue's wait list, so another worker starts it now. */
  async returnActiveJobs(): Promise<number> {
    const running = [...this.active.values()];
    this.active.clear();
    const results = await Promise.allSettled(running.map(({ job, token }) => job.moveToWait(token)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.logger.warn({ jobId: running[i].job.id, err: r.reason }, 'Could not return a job; its lock will expire');
      else this.logger.warn({ queue: running[i].job.queueName, jobId: running[i].job.id }, `job returned to the queue at shutdown`);
    });
    return running.length;
  }
}
