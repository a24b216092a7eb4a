import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { DeadlineQueue } from './deadline-queue';

const EXPIRY_WARNING_MS = 60_000;

type ExpiringSocket = Socket & { data: { expiresAt: number } };

/**
 * Access-token expiry of every socket of this process: `auth:expiring` a minute ahead, then the
 * disconnect. One timer for all sockets (see DeadlineQueue) instead of two per socket.
 */
@Injectable()
export class SocketExpiry implements OnModuleDestroy {
  private readonly warnings = new DeadlineQueue<ExpiringSocket>((socket) =>
    socket.emit('auth:expiring', { expiresAt: new Date(socket.data.expiresAt).toISOString() }),
  );
  private readonly cutoffs = new DeadlineQueue<ExpiringSocket>((socket) => socket.disconnect(true));

  /** (Re)schedules the socket's warning and cut-off from `socket.data.expiresAt`. */
  schedule(socket: ExpiringSocket): void {
    const now = Date.now();
    const remaining = socket.data.expiresAt - now;
    // A minute ahead; a token that lives less than two minutes is warned about at half-life.
    const warnIn = remaining > 2 * EXPIRY_WARNING_MS ? remaining - EXPIRY_WARNING_MS : Math.max(0, remaining / 2);
    this.warnings.schedule(socket, now + warnIn);
    this.cutoffs.schedule(socket, socket.data.expiresAt);
  }

  cancel(socket: Socket): void {
    this.warnings.cancel(socket as ExpiringSocket);
    this.cutoffs.cancel(socket as ExpiringSocket);
  }

  onModuleDestroy(): void {
    this.warnings.stop();
    this.cutoffs.stop();
  }
}
