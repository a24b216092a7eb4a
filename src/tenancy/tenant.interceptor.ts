import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import type { AuthUser } from '../auth/jwt.strategy';
import { SYSTEM_SCOPE } from './system-scope.decorator';
import { runInContext, systemContext, userContext, type TenantContext } from './tenant-context';

/**
 * HTTP: the handler (and all it awaits) runs as the authenticated caller from the bearer token the
 * guard verified, or under the route's @SystemScope. A public route without one has no context: its
 * queries fail. The handler starts on subscription, so subscribing inside the context carries it in.
 */
@Injectable()
export class TenantInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const scope = this.reflector.get<string | undefined>(SYSTEM_SCOPE, context.getHandler());
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    const tenant: TenantContext | null = scope ? systemContext(scope) : user?.userId ? userContext(user.userId) : null;
    return new Observable((subscriber) => runInContext(tenant, () => next.handle().subscribe(subscriber)));
  }
}
