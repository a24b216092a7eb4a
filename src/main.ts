import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, type Express, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { AppLogger } from './common/logging';
import { rejectUnsafeJson, securityHeaders } from './common/security';
import { preflight } from './common/preflight';
import { createValidationPipe } from './common/validation';
import { takeConfigWarnings, validateEnv } from './config/env.validation';
import { migrate } from './database/migrate';
import { DrainService } from './health/drain.service';
import { installGracefulShutdown } from './health/graceful-shutdown';
import { ASYNCAPI_MODELS, buildAsyncApiDocument } from './realtime/asyncapi';
import { RedisIoAdapter } from './realtime/redis-io.adapter';
import { serveWeb } from './web/serve-web';

async function bootstrap(): Promise<void> {
  // Fail fast, naming the bad variable, before anything connects.
  const env = validateEnv(process.env);
  await preflight(env);
  if (env.RUN_MIGRATIONS) await migrate(env.DATABASE_OWNER_URL ?? env.DATABASE_URL, env.DATABASE_URL);

  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bufferLogs: true, bodyParser: false });
  const logger = new AppLogger(app.get(Logger));
  app.useLogger(logger);
  for (const warning of takeConfigWarnings()) logger.warn(warning, 'Config');
  app.use(app.get(DrainService).httpMiddleware);
  // Without a configured proxy, X-Forwarded-For is ignored: rate limits key on the real peer address.
  if (env.TRUST_PROXY) app.set('trust proxy', /^\d+$/.test(env.TRUST_PROXY) ? Number(env.TRUST_PROXY) : env.TRUST_PROXY);
  app.use(securityHeaders());
  app.use(json({ limit: env.HTTP_MAX_BODY_BYTES }));
  app.use(rejectUnsafeJson);
  app.setGlobalPrefix('api', { exclude: ['health/live', 'health/ready', 'metrics'] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  const origins = env.CORS_ORIGINS.trim() === '*' ? true : env.CORS_ORIGINS.split(',').map((o) => o.trim());
  app.enableCors({ origin: origins, credentials: true });
  const ioAdapter = new RedisIoAdapter(app, env);
  await ioAdapter.connectToRedis();
  app.useWebSocketAdapter(ioAdapter);
  // Not Nest's shutdown hooks, which close at once: drain first (src/health/graceful-shutdown.ts).
  installGracefulShutdown(app, () => ioAdapter.namespaces.get('/rt'), env, logger);

  if (env.SWAGGER_ENABLED) setUpSwagger(app);
  const web = serveWeb(app);

  await app.listen(env.PORT, env.HOST);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  logger.log(`Pigeon listening on port ${port}: ${web ? `web app http://localhost:${port}/, ` : ''}API docs http://localhost:${port}/docs`, 'Bootstrap');
  // Test harnesses started with PORT=0 read the chosen port from this line.
  if (process.send) process.send({ type: 'listening', port });
}

function setUpSwagger(app: NestExpressApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Pigeon API')
      .setDescription(
        'REST API of Pigeon. Every error answers the ErrorResponseDto body. The real-time side, the Socket.IO ' +
          'namespace /rt, is described by the [AsyncAPI 3.0 document](/docs/asyncapi.json); the whole contract is ' +
          'docs/PROTOCOL.md.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
    // Socket-only shapes, so the AsyncAPI document takes every schema from this one.
    { extraModels: ASYNCAPI_MODELS },
  );
  const asyncapi = buildAsyncApiDocument(document);
  (app.getHttpAdapter().getInstance() as Express).get('/docs/asyncapi.json', (request: Request, response: Response) => {
    // The server entry names the host the caller reached; the document is built once.
    const host = request.headers.host ?? 'localhost:3000';
    const servers = { pigeon: { ...(asyncapi.servers as { pigeon: object }).pigeon, host } };
    response.json({ ...asyncapi, servers });
  });
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Pigeon API failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
