'use strict';
/**
 * OPT-IN bench workaround (`--ws-workarounds`), preloaded into the API process with `-r`. Found
 * while building the bench, at the time of the first runs every client->server socket event failed,
 * so nothing could be measured. Two global HTTP-side things also run on Socket.IO gateway handlers:
 *
 * 1. The global APP_GUARD JwtAuthGuard (src/auth/auth.module.ts): passport-jwt reads
 *    `request.headers.authorization` of a ws context and throws a TypeError, so the event gets no
 *    ack at all (client timeout). Sockets are authenticated by the gateway's handshake middleware,
 *    so non-HTTP contexts are let through here.
 * 2. The global ValidationPipe (main.ts, app.useGlobalPipes) turns the payload into a DTO instance
 *    before the gateway's PayloadPipe runs, and PayloadPipe then rejects it with VALIDATION
 *    "Payload must be a JSON object" (its prototype is the DTO's, not Object.prototype). Here a
 *    DTO instance is handed to PayloadPipe as the plain object it came from.
 *
 * Both are what the real fixes in src/ have to do (or equivalent). Results measured with this file
 * say so in docs/BENCHMARKS.md. The patches are no-ops once src/ is fixed.
 */
const path = require('node:path');

const dist = (...p) => path.resolve(__dirname, '..', '..', 'dist', ...p);

const guard = require(dist('auth', 'jwt-auth.guard.js')).JwtAuthGuard.prototype;
const canActivate = guard.canActivate;
guard.canActivate = function benchCanActivate(context) {
  if (context.getType() !== 'http') return true;
  return canActivate.call(this, context);
};

const pipe = require(dist('realtime', 'payload.pipe.js')).PayloadPipe.prototype;
const transform = pipe.transform;
pipe.transform = function benchTransform(payload, metadata) {
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const proto = Object.getPrototypeOf(payload);
    if (proto !== Object.prototype && proto !== null && this.dto && payload instanceof this.dto) payload = { ...payload };
  }
  return transform.call(this, payload, metadata);
};
