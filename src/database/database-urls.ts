/** Local defaults: the app as `pigeon_app` (created by migrate on first start), migrations as `postgres`. */
export const DEV_DATABASE_URL = 'postgres://pigeon_app@127.0.0.1:5432/pigeon';
export const DEV_DATABASE_OWNER_URL = 'postgres://postgres@127.0.0.1:5432/pigeon';

/**
 * DATABASE_URL is the application's role (row-level security applies to it); DATABASE_OWNER_URL the
 * role that owns the schema and runs migrations. An unset owner URL is DATABASE_URL when that is set
 * (one role for both, as before: then only the application's filters guard tenants).
 */
export function databaseUrls(env: { DATABASE_URL?: string; DATABASE_OWNER_URL?: string }): {
  app: string;
  owner: string;
} {
  const app = env.DATABASE_URL || DEV_DATABASE_URL;
  const owner = env.DATABASE_OWNER_URL || (env.DATABASE_URL ? env.DATABASE_URL : DEV_DATABASE_OWNER_URL);
  return { app, owner };
}
