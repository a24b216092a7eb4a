import { DiscoveryService } from '@nestjs/core';
import type { Namespace } from 'socket.io';

/**
 * The provider that owns this process's `/rt` namespace (the realtime gateway, whose `namespace`
 * Nest fills through `@WebSocketServer()`). Only API processes have one; FanoutService finds it
 * through DI discovery and otherwise emits through the Redis emitter (the worker).
 */
export interface SocketNamespaceOwner {
  readonly namespace: Namespace | undefined;
}

export const SocketNamespaceSource = DiscoveryService.createDecorator<void>();
