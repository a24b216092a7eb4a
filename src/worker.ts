import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { preflight } from './common/preflight';
import { validateEnv } from './config/env.validation';
import { setProcessContext, systemContext } from './tenancy/tenant-context';
import { ffmpegBinary } from './voice/ffmpeg-binary';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  // Jobs serve every workspace (deliveries, push, transcodes), each looked up by its id: one named scope.
  setProcessContext(systemContext('worker'));
  await preflight(validateEnv(process.env));
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  // SIGTERM/SIGINT close the app: BullMQ workers finish their current jobs, then connections close.
  app.enableShutdownHooks();
  await app.init();
  app.get(Logger).log(`Pigeon worker started (ffmpeg: ${ffmpegBinary()})`, 'Bootstrap');
  if (process.send) process.send({ type: 'ready' });
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Pigeon worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
