import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { createValidationPipe } from './common/validation';
import { validateEnv } from './config/env.validation';
import { migrate } from './database/migrate';
import { RedisIoAdapter } from './realtime/redis-io.adapter';
import { serveWeb } from './web/serve-web';

async function bootstrap(): Promise<void> {
  // Fail fast, naming the bad variable, before anything connects.
  const env = validateEnv(process.env);
  if (env.RUN_MIGRATIONS) await migrate(env.DATABASE_URL);

  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.use(json({ limit: env.HTTP_MAX_BODY_BYTES }));
  app.setGlobalPrefix('api', { exclude: ['health/live', 'health/ready', 'metrics'] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  const origins = env.CORS_ORIGINS.trim() === '*' ? true : env.CORS_ORIGINS.split(',').map((o) => o.trim());
  app.enableCors({ origin: origins, credentials: true });
  app.enableShutdownHooks();

  const ioAdapter = new RedisIoAdapter(app, env);
  await ioAdapter.connectToRedis();
  app.useWebSocketAdapter(ioAdapter);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Pigeon API')
      .setDescription('REST API of Pigeon. The real-time contract is docs/PROTOCOL.md (Socket.IO namespace /rt).')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  const web = serveWeb(app);

  await app.listen(env.PORT, env.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  app.get(Logger).log(`Pigeon listening on port ${port}: ${web ? `web app http://localhost:${port}/, ` : ''}API docs http://localhost:${port}/docs`, 'Bootstrap');
  // Test harnesses started with PORT=0 read the chosen port from this line.
  if (process.send) process.send({ type: 'listening', port });
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Pigeon API failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
