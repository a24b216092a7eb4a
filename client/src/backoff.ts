import type { PigeonErrorCode } from './types';

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Upper bound of any single delay. */
  maxDelayMs: number;
  /** Growth per attempt. */
  factor: number;
  /**
   * Share of the delay that is randomised, 0..1. The default 1 is "full jitter" (a 1000 ms step
   * waits 0..1000 ms): thousands of clients dropped by one node restart spread over the whole
   * window instead of arriving in waves; 0.5 would wait 500..1000 ms.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 1,
};

/**
 * Delay before retry number `attempt` (0 for the first retry): exponential, capped, with jitter
 * taken off the top so the cap is never exceeded.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt);
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * Math.pow(options.factor, exponent));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}

/**
 * Codes for which retrying the same request cannot succeed. CONFLICT is included because it is a
 * statement about the data, not about load; the server does not answer it for a send anyway.
 */
export const FINAL_ERROR_CODES: ReadonlySet<PigeonErrorCode> = new Set<PigeonErrorCode>([
  'VALIDATION',
  'NOT_FOUND',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'CONFLICT',
  'LIMIT_REACHED',
  'FLOOR_NOT_HELD',
  'CLIENT_CLOSED',
  'DEADLINE_EXCEEDED',
]);

export function isFinalErrorCode(code: PigeonErrorCode): boolean {
  return FINAL_ERROR_CODES.has(code);
}

/**
 * Delay before the next attempt after a retryable failure. A rate-limit answer names its own wait
 * (retrying earlier would only be refused and counted again), so it wins over the backoff, with a
 * little jitter on top so a burst of queued sends does not land in the same millisecond.
 */
/**
 * Delay before reconnecting after the server refused a handshake with a hint (a saturated node
 * answers `RATE_LIMITED` with `retryAfterMs`): at least the hint, spread over up to twice it so
 * the refused clients do not all come back in the same instant.
 */
export function hintedReconnectDelay(retryAfterMs: number, random: () => number = Math.random): number {
  return Math.ceil(retryAfterMs * (1 + random()));
}

export function retryDelay(
  attempt: number,
  failure: { code: PigeonErrorCode; retryAfterMs?: number },
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (failure.code === 'RATE_LIMITED' && typeof failure.retryAfterMs === 'number' && failure.retryAfterMs >= 0) {
    return Math.ceil(failure.retryAfterMs + 50 * random());
  }
  return backoffDelay(attempt, options, random);
}
