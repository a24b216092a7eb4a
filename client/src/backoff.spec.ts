import { backoffDelay, DEFAULT_BACKOFF, hintedReconnectDelay, isFinalErrorCode, retryDelay, type BackoffOptions } from './backoff';

const options: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 2000, factor: 2, jitter: 0.5 };

describe('backoffDelay', () => {
  it('grows exponentially without jitter at random() = 0', () => {
    const delays = [0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1600]);
  });

  it('is capped at maxDelayMs', () => {
    expect(backoffDelay(5, options, () => 0)).toBe(2000);
    expect(backoffDelay(50, options, () => 0)).toBe(2000);
    expect(backoffDelay(10_000, options, () => 0)).toBe(2000);
  });

  it('takes jitter off the top, never above the cap', () => {
    expect(backoffDelay(2, options, () => 0.999999)).toBe(200);
    expect(backoffDelay(2, options, () => 0.5)).toBe(300);
    for (let i = 0; i < 1000; i++) {
      const delay = backoffDelay(20, options);
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });

  it('treats a negative attempt as the first one and clamps jitter to 0..1', () => {
    expect(backoffDelay(-3, options, () => 0)).toBe(100);
    expect(backoffDelay(0, { ...options, jitter: 5 }, () => 0.5)).toBe(50);
    expect(backoffDelay(0, { ...options, jitter: -1 }, () => 0.5)).toBe(100);
  });

  it('has sane defaults', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(DEFAULT_BACKOFF.initialDelayMs);
    expect(backoffDelay(100, DEFAULT_BACKOFF, () => 0)).toBe(DEFAULT_BACKOFF.maxDelayMs);
  });
});

describe('full jitter by default', () => {
  it('spreads a step over the whole window, 0..base', () => {
    expect(DEFAULT_BACKOFF.jitter).toBe(1);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.999999)).toBe(0);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(DEFAULT_BACKOFF.initialDelayMs * 4);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(3, DEFAULT_BACKOFF));
    const base = DEFAULT_BACKOFF.initialDelayMs * 8;
    expect(Math.min(...delays)).toBeLessThan(base * 0.1);
    expect(Math.max(...delays)).toBeGreaterThan(base * 0.9);
  });
});

describe('hintedReconnectDelay', () => {
  it('waits at least the hint and at most twice it', () => {
    expect(hintedReconnectDelay(500, () => 0)).toBe(500);
    expect(hintedReconnectDelay(500, () => 0.999)).toBe(1000);
    expect(hintedReconnectDelay(0, () => 0.5)).toBe(0);
  });
});

describe('retryDelay', () => {
  it('waits retryAfterMs on RATE_LIMITED, whatever the attempt', () => {
    expect(retryDelay(0, { code: 'RATE_LIMITED', retryAfterMs: 1500 }, options, () => 0)).toBe(1500);
    expect(retryDelay(9, { code: 'RATE_LIMITED', retryAfterMs: 1500 }, options, () => 0)).toBe(1500);
    const jittered = retryDelay(0, { code: 'RATE_LIMITED', retryAfterMs: 1500 }, options, () => 0.5);
    expect(jittered).toBeGreaterThanOrEqual(1500);
    expect(jittered).toBeLessThanOrEqual(1550);
  });

  it('falls back to backoff when RATE_LIMITED has no retryAfterMs', () => {
    expect(retryDelay(3, { code: 'RATE_LIMITED' }, options, () => 0)).toBe(800);
  });

  it('uses backoff for other retryable failures', () => {
    expect(retryDelay(1, { code: 'TIMEOUT' }, options, () => 0)).toBe(200);
    expect(retryDelay(1, { code: 'INTERNAL', retryAfterMs: 9999 }, options, () => 0)).toBe(200);
  });
});

describe('isFinalErrorCode', () => {
  it.each(['VALIDATION', 'NOT_FOUND', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE', 'UNAUTHORIZED', 'CLIENT_CLOSED'])('%s is final', (code) => {
    expect(isFinalErrorCode(code)).toBe(true);
  });

  it.each(['RATE_LIMITED', 'INTERNAL', 'TIMEOUT', 'DISCONNECTED', 'SOMETHING_NEW'])('%s is retryable', (code) => {
    expect(isFinalErrorCode(code)).toBe(false);
  });
});
