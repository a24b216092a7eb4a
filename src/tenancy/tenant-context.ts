import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whose rows a database statement may touch: the second tenant wall (Postgres row-level security)
 * reads this, on top of the application's own workspace filters.
 * - `users`: the workspaces those users belong to (Postgres looks them up per transaction) and the
 *   users' own member rows (refresh tokens, push subscriptions, read marks). Several users when one
 *   statement serves several callers (a group-commit batch).
 * - `system`: every tenant, for work that is legitimately cross-tenant (login by email, an invite
 *   by its code, the worker). Always named, so the call site says why.
 */
export type TenantContext = { kind: 'users'; userIds: readonly string[] } | { kind: 'system'; scope: string };

/** A request or socket event holds one of these; the HTTP interceptor fills it in once the caller is known. */
interface TenantHolder {
  context: TenantContext | null;
}

const storage = new AsyncLocalStorage<TenantHolder>();
/** What a process without any context uses: nothing in the API, `system('worker')` in the worker. */
let processContext: TenantContext | null = null;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCOPE = /^[a-z][a-z0-9.:_-]{0,62}$/;

/** Whether `value` is a user id userContext accepts. */
export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function userContext(...userIds: string[]): TenantContext {
  const unique = [...new Set(userIds.map((id) => id.toLowerCase()))].sort();
  for (const id of unique) if (!UUID.test(id)) throw new Error(`Tenant context: not a user id: ${JSON.stringify(id)}`);
  return { kind: 'users', userIds: unique };
}

export function systemContext(scope: string): TenantContext {
  if (!SCOPE.test(scope)) throw new Error(`Tenant context: bad system scope name ${JSON.stringify(scope)}`);
  return { kind: 'system', scope };
}

/** Runs `work` (and everything it awaits or schedules) as the given users. */
export function runAsUser<T>(userIds: string | readonly string[], work: () => T): T {
  const context = userContext(...(typeof userIds === 'string' ? [userIds] : userIds));
  return storage.run({ context }, work);
}

/** Runs `work` across tenants, under a name that says why (e.g. `auth.login`, `invite.accept`). */
export function runAsSystem<T>(scope: string, work: () => T): T {
  return storage.run({ context: systemContext(scope) }, work);
}

export function runInContext<T>(context: TenantContext | null, work: () => T): T {
  return storage.run({ context }, work);
}

/** Opens a holder with no context yet (an HTTP request before authentication). */
export function runWithHolder<T>(work: () => T): T {
  return storage.run({ context: null }, work);
}

/** Sets the context of the current holder (the authenticated caller of this request). */
export function setCurrentContext(context: TenantContext): void {
  const holder = storage.getStore();
  if (!holder) throw new Error('Tenant context: no request holder to set');
  holder.context = context;
}

export function currentTenant(): TenantContext | null {
  const holder = storage.getStore();
  return holder ? holder.context : processContext;
}

/** The context of code outside any request or event: set once at boot by processes that need one. */
export function setProcessContext(context: TenantContext | null): void {
  processContext = context;
}

/** A stable key: the database layer re-applies the context only when this changes. */
export function contextKey(context: TenantContext): string {
  return context.kind === 'system' ? `s:${context.scope}` : `u:${context.userIds.join(',')}`;
}

export class MissingTenantContextError extends Error {
  constructor() {
    super('Database access outside a tenant context: run it with runAsUser() or a named runAsSystem() scope');
    this.name = 'MissingTenantContextError';
  }
}
