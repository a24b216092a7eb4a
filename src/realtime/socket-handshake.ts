import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { TokenService } from '../auth/token.service';
import { AppConfigService } from '../config/app-config.service';
import { PresenceService } from '../presence/presence.service';
import { ConnectAdmission } from './connect-admission';

/** What the handshake learns about a socket; kept on `socket.data`. */
export interface SocketState {
  userId: string;
  expiresAt: number;
  sessionId?: string;
}

export type PigeonSocket = Socket & { data: SocketState };

type HandshakeCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'LIMIT_REACHED' | 'RATE_LIMITED';

function handshakeError(code: HandshakeCode, message: string, retryAfterMs?: number): Error {
  // socket.io sends `message` and `data` to the client as its connect_error.
  return Object.assign(new Error(code), { data: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs } });
}

/**
 * Once authenticated, the upgrade request (headers, URL, query, the token) is never read again, but
 * engine.io would keep it for the socket's life; socket.io's docs suggest dropping it to save memory.
 */
function releaseHandshakeRequest(socket: Socket): void {
  (socket.conn as unknown as { request: unknown }).request = null;
  socket.handshake.headers = {};
  socket.handshake.query = {};
  socket.handshake.auth = {};
}

/**
 * The `/rt` handshake middleware: Origin, access token, then a slot in the admission line and the
 * per-user socket cap. The slot is held until `ready` is out (released by the gateway) or the socket goes.
 */
@Injectable()
export class SocketHandshake {
  private readonly logger = new Logger(SocketHandshake.name);
  /** Handshakes between admission and `ready` hold a slot; a storm waits in line instead of piling up. */
  private readonly admission: ConnectAdmission;
  private readonly admitted = new WeakMap<Socket, () => void>();

  constructor(
    private readonly tokens: TokenService,
    private readonly config: AppConfigService,
    private readonly presence: PresenceService,
  ) {
    this.admission = new ConnectAdmission({
      concurrency: config.get('CONNECT_ADMISSION_CONCURRENCY'),
      maxQueue: config.get('CONNECT_ADMISSION_QUEUE'),
      maxWaitMs: config.get('CONNECT_ADMISSION_WAIT_MS'),
    });
  }

  readonly middleware = (socket: Socket, next: (error?: Error) => void): void => {
    const allowed = this.config.corsOrigins;
    const origin = socket.handshake.headers.origin;
    // Browsers always send Origin; a client without one (a server, the SDK in Node) is judged by its token.
    if (origin && allowed !== '*' && !allowed.includes(origin)) {
      return next(handshakeError('FORBIDDEN', 'Origin not allowed'));
    }
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    let verified;
    try {
      verified = this.tokens.verifyAccess(auth?.token);
    } catch {
      return next(handshakeError('UNAUTHORIZED', 'Invalid or expired access token'));
    }
    const { userId, expiresAt, sessionId } = verified;
    void this.admit(socket, userId).then((refusal) => {
      if (refusal) return next(refusal);
      (socket.data as SocketState) = { userId, expiresAt, sessionId };
      releaseHandshakeRequest(socket);
      next();
    });
  };

  /** Frees the socket's admission slot (idempotent). */
  release(socket: Socket): void {
    this.admitted.get(socket)?.();
    this.admitted.delete(socket);
  }

  /** Answers the refusal to send, or null when admitted. The socket cap reads the presence set of every node. */
  private async admit(socket: Socket, userId: string): Promise<Error | null> {
    const slot = await this.admission.acquire();
    if (!slot.admitted) return handshakeError('RATE_LIMITED', 'This node is busy connecting others: retry after retryAfterMs', slot.retryAfterMs);
    try {
      const live = await this.presence.liveSocketCount(userId);
      const max = this.config.get('SOCKETS_PER_USER_MAX');
      if (live >= max) {
        slot.release();
        return handshakeError('LIMIT_REACHED', `At most ${max} connections per user`);
      }
    } catch (error) {
      this.logger.warn(`Socket count unavailable, admitting: ${String(error)}`);
    }
    this.admitted.set(socket, slot.release);
    return null;
  }
}
