import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AppException } from '../common/app.exception';
import { IS_PUBLIC } from './public.decorator';

/** Global guard: every route needs a bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    if (context.getType() === 'ws') {
      // Sockets authenticate once in the handshake middleware and are cut off at token expiry.
      const socket = context.switchToWs().getClient<{ data?: { userId?: string; expiresAt?: number } }>();
      if (socket.data?.userId && (socket.data.expiresAt ?? 0) > Date.now()) return true;
      throw AppException.unauthorized('Access token expired');
    }
    return super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, user: T): T {
    if (error || !user) throw AppException.unauthorized('Invalid or missing access token');
    return user;
  }
}
