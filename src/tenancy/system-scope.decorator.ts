import { SetMetadata } from '@nestjs/common';

export const SYSTEM_SCOPE = 'pigeon:system-scope';

/**
 * The route is legitimately cross-tenant and runs under this named system scope instead of the
 * caller's workspaces: sign-in by e-mail, a refresh token looked up by its hash, an invite by its code.
 */
export const SystemScope = (scope: string) => SetMetadata(SYSTEM_SCOPE, scope);
