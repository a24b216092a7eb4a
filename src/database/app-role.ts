import { Client } from 'pg';

export interface AppRoleOutcome {
  role: string;
  created: boolean;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Makes `appUrl`'s role the application's: created when missing (LOGIN, NOSUPERUSER, NOBYPASSRLS;
 * needs CREATEROLE, which the local `postgres` has; in production the DBA creates it, see README),
 * and granted the data (not the schema) of the owner's tables, now and for tables added later.
 * Row-level security then holds for it. Idempotent; several starters may run it at once.
 */
export async function ensureAppRole(ownerUrl: string, appUrl: string): Promise<AppRoleOutcome | null> {
  const app = new URL(appUrl);
  const role = decodeURIComponent(app.username);
  const owner = decodeURIComponent(new URL(ownerUrl).username);
  // One role for both: nothing to set up (and row-level security is only as strong as that role).
  if (!role || role === owner) return null;
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    let created = false;
    const found = await client.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1', [role]);
    if (found.rowCount === 0) {
      const password = app.password ? ` PASSWORD ${quoteLiteral(decodeURIComponent(app.password))}` : '';
      try {
        await client.query(
          `CREATE ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE${password}`,
        );
        created = true;
      } catch (error) {
        // Another starter (another test run, another node) created it first.
        const code = (error as { code?: string }).code;
        if (code !== '42710' && code !== '23505') throw error;
      }
    } else if (found.rows[0].rolsuper || found.rows[0].rolbypassrls) {
      throw new Error(
        `Role ${role} (DATABASE_URL) is a superuser or has BYPASSRLS: row-level security would not apply to it`,
      );
    }
    const r = quoteIdent(role);
    const database = quoteIdent(decodeURIComponent(new URL(ownerUrl).pathname.replace(/^\//, '')));
    await client.query('BEGIN');
    // Serializes concurrent grants on one database (GRANT on the same objects can fail with "tuple concurrently updated").
    await client.query('SELECT pg_advisory_xact_lock(727275)');
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO ${r}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    await client.query(`REVOKE ALL ON TABLE migrations FROM ${r}`);
    await client.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
    );
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${r}`);
    await client.query('COMMIT');
    return { role, created };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
