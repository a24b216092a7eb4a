import { createHmac } from 'node:crypto';

/** An RTCIceServer as browsers and werift take it. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface IceConfig {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret?: string;
  ttlSeconds: number;
}

/**
 * TURN REST credentials (coturn `use-auth-secret`): the username carries its own expiry, the password is
 * HMAC-SHA1 of the username under the secret coturn shares, so no per-user state exists anywhere.
 */
export function turnCredentials(secret: string, userId: string, ttlSeconds: number, nowMs = Date.now()) {
  const expiresAtSeconds = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAtSeconds}:${userId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt: new Date(expiresAtSeconds * 1000).toISOString() };
}

/** The `iceServers` of a `huddle:join` ack, and when their TURN credential stops working (null: no TURN). */
export function iceServersFor(config: IceConfig, userId: string, nowMs = Date.now()): { iceServers: IceServer[]; iceServersExpireAt: string | null } {
  const iceServers: IceServer[] = [];
  if (config.stunUrls.length > 0) iceServers.push({ urls: config.stunUrls });
  if (config.turnUrls.length === 0 || !config.turnSecret) return { iceServers, iceServersExpireAt: null };
  const { username, credential, expiresAt } = turnCredentials(config.turnSecret, userId, config.ttlSeconds, nowMs);
  iceServers.push({ urls: config.turnUrls, username, credential });
  return { iceServers, iceServersExpireAt: expiresAt };
}

/** `a, b,,c` -> [a, b, c]. */
export const urlList = (raw: string): string[] => raw.split(',').map((u) => u.trim()).filter(Boolean);
