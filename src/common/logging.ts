import type { LoggerService } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';

/**
 * Which process this is. Warnings about shared settings (VAPID keys, the development JWT secret)
 * are the API's to print; the worker, started beside it by `npm start`, logs them at debug.
 */
let role: 'api' | 'worker' = 'api';
export const setProcessRole = (value: 'api' | 'worker'): void => void (role = value);
export const processRole = (): 'api' | 'worker' => role;

/** Pretty, one line per entry, for a person at a terminal; JSON for everything else (and always in production). */
export function prettyLogs(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean } = process.stdout): boolean {
  if ((env.NODE_ENV ?? 'development') === 'production' || !stdout.isTTY) return false;
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** JSON logs with a request id; never a token, a password or a message body. */
export function loggerParams(level: string, pretty = prettyLogs()): Params {
  return {
    pinoHttp: {
      level,
      ...(pretty
        ? {
            transport: {
              target: 'pino-pretty',
              options: {
                colorize: true,
                singleLine: true,
                translateTime: 'SYS:HH:MM:ss.l',
                ignore: 'pid,hostname,context,req,res,responseTime',
                messageFormat: '{if context}[{context}] {end}{msg}',
              },
            },
          }
        : {}),
      genReqId: (req: IncomingMessage) => {
        const given = req.headers['x-request-id'];
        return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
      },
      serializers: {
        // Path only: query strings may carry signed URLs.
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // A short line that says it all (the structured fields stay for JSON consumers).
      customSuccessMessage: (req: IncomingMessage, res: ServerResponse, responseTime: number) =>
        `${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode} ${Math.round(responseTime)}ms`,
      customErrorMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode} failed`,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.refreshToken', '*.accessToken', '*.body'], remove: true },
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') || req.url === '/metrics' },
    },
  };
}

/** Nest's own boot chatter: one line per route, module and gateway subscription. */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestApplicationContext',
  'WebSocketsController',
]);

/** The app's logger, with framework boot chatter moved to debug so `info` shows what an operator needs. */
export class AppLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) this.inner.debug?.(message, ...params);
    else this.inner.log(message, ...params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.inner.error(message, ...params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.inner.fatal?.(message, ...params);
  }
}
