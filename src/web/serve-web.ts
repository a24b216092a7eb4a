import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';

/** Where `npm run build:web` writes the browser app (dist/web/serve-web.js -> web/dist); read at call time. */
export function webDist(): string {
  return join(__dirname, '..', '..', 'web', 'dist');
}

/** Paths the server owns; the SPA fallback never answers them, so an API 404 stays a JSON 404. */
const SERVER_PREFIXES = ['/api', '/rt', '/socket.io', '/docs', '/docs-json', '/health', '/metrics'];

export function isServerPath(path: string): boolean {
  return SERVER_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}.`));
}

/**
 * The app's CSP: its own scripts and styles only (Vite emits no inline script), the socket on the
 * same host, and blob: media for live voice (MediaSource object URLs). Swagger UI at /docs is not
 * covered: it needs inline scripts and gets its own headers.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const socket = host ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    `connect-src 'self'${socket}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function setAppHeaders(res: Response, host: string | undefined): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(host));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Microphone for hold-to-talk on our own origin only.
  res.setHeader('Permissions-Policy', 'microphone=(self), camera=(), geolocation=()');
}

/**
 * Serves Pigeon Web at `/`: hashed assets are immutable for a year, index.html is revalidated on
 * every load (so a deploy is picked up at once), and any other GET for a page (not a file, not a
 * server path) gets index.html so client routes survive a reload. Does nothing without a build.
 */
export function serveWeb(app: NestExpressApplication, root = webDist()): boolean {
  const index = join(root, 'index.html');
  if (!existsSync(index)) return false;
  const staticFiles = express.static(root, {
    index: false,
    redirect: false,
    setHeaders: (res, path) => {
      setAppHeaders(res, res.req.headers.host);
      res.setHeader('Cache-Control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isServerPath(req.path)) return next();
    staticFiles(req, res, () => {
      // A missing file (anything with an extension) is a real 404, not the app shell.
      if (/\.[a-z0-9]+$/i.test(req.path)) return next();
      setAppHeaders(res, req.headers.host);
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  });
  return true;
}
