import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppLogger, setProcessRole } from './common/logging';
import { preflight } from './common/preflight';
import { takeConfigWarnings, validateEnv } from './config/env.validation';
import { JobEventsService } from './metrics/job-events.service';
import { MetricsService } from './metrics/metrics.service';
import { WorkerHttpServer } from './metrics/worker-http.server';
import { setProcessContext, systemContext } from './tenancy/tenant-context';
import { ffmpegBinary } from './voice/ffmpeg-binary';
import { WorkerModule } from './worker.module';

/** Time kept back from SHUTDOWN_TIMEOUT_MS to hand unfinished jobs back and close connections. */
const RETURN_MARGIN_MS = 2000;

async function bootstrap(): Promise<void> {
  setProcessRole('worker');
  // Jobs serve every workspace (deliveries, push, transcodes), each looked up by its id: one named scope.
  setProcessContext(systemContext('worker'));
  const env = validateEnv(process.env);
  await preflight(env);
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  const logger = new AppLogger(app.get(Logger));
  app.useLogger(logger);
  // The API beside it (npm start) prints these; here they would be the same lines twice.
  for (const warning of takeConfigWarnings()) logger.debug(warning, 'Config');
  await app.init();
  const http = app.get(WorkerHttpServer);
  const port = await http.listen(env.WORKER_PORT, env.HOST).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`WORKER_PORT=${env.WORKER_PORT} on ${env.HOST}: ${error.code ?? error.message} (set WORKER_PORT to a free port, or 0 for any)`);
  });

  // SIGTERM/SIGINT: stop taking jobs, let the running ones finish; at the deadline hand the rest
  // back to their queues (another worker starts them at once) and exit.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    const jobs = app.get(JobEventsService);
    logger.log(`${signal}: finishing running jobs (at most ${env.SHUTDOWN_TIMEOUT_MS} ms)`, 'Shutdown');
    app.get(MetricsService).setDraining();
    http.drain();
    const hardStop = setTimeout(() => {
      logger.error('Shutdown deadline passed: exiting now', 'Shutdown');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    hardStop.unref();
    const finished = await jobs.closeWorkers(Math.max(0, env.SHUTDOWN_TIMEOUT_MS - RETURN_MARGIN_MS));
    if (!finished) {
      const returned = await jobs.returnActiveJobs();
      logger.warn(`${returned} unfinished job(s) returned to their queues`, 'Shutdown');
      await http.close();
      process.exit(0);
    }
    await app.close();
    await http.close();
    logger.log(`worker stopped in ${Date.now() - started} ms`, 'Shutdown');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));

  logger.log(`Pigeon worker started (ffmpeg: ${ffmpegBinary()}); metrics and health on port ${port}`, 'Bootstrap');
  if (process.send) process.send({ type: 'ready', port });
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Pigeon worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
