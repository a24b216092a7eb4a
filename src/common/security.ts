import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { ErrorCode } from './error-code';

/** Deeper JSON than any Pigeon body needs; class-transformer recursion overflows far below 60,000. */
export const MAX_JSON_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Security headers for every response (helmet): nosniff, frame-ancestors none, HSTS, no
 * X-Powered-By, no referrer. The API answers JSON, so its CSP allows nothing; the Swagger UI under
 * `/docs` loads its own scripts and inline styles from this origin, and gets a CSP that allows that.
 */
export function securityHeaders() {
  const api = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const docs = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
  });
  return (request: Request, response: Response, next: NextFunction) =>
    (request.path === '/docs' || request.path.startsWith('/docs/') ? docs : api)(request, response, next);
}

/** The first reason a parsed JSON value is refused (too deep, or a prototype-polluting key), or null. */
export function unsafeJsonProblem(value: unknown): string | null {
  // Iterative, so a hostile depth cannot overflow the stack here either.
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return `body nests deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(node)) {
      for (const item of node) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(node)) {
      if (FORBIDDEN_KEYS.has(key)) return `body must not contain the key "${key}"`;
      stack.push([(node as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return null;
}

/** REST bodies get the same refusal as socket payloads: 400 VALIDATION before any DTO sees them. */
export function rejectUnsafeJson(request: Request, response: Response, next: NextFunction): void {
  const problem = request.body === undefined ? null : unsafeJsonProblem(request.body);
  if (!problem) return next();
  response.status(400).json({ statusCode: 400, code: ErrorCode.VALIDATION, message: problem, details: [{ field: 'body', message: problem }] });
}
