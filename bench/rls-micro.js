'use strict';
/**
 * Row-level security micro-benchmark (not part of `npm run bench`): the database cost of the tenant
 * wall per statement, in-process, against a fresh `pigeon_bench_rlsmicro` database.
 *   node bench/rls-micro.js [--rounds=5] [--iterations=400]
 * Variants, interleaved round by round so a noisy machine hits them alike:
 * - none:   the owner (a superuser, policies skipped) on a plain pg pool, no context: the old path
 * - array:  the application role through src/tenancy (per-transaction pigeon_tenant_enter), the
 *           shipped policies (`workspace_id = ANY (<InitPlan array>)`)
 * - exists: the same, but the messages policy is a per-row member subquery (EXISTS on workspace_members)
 * Operations: a history page (autocommit), a 3-statement transaction (lock the channel, read the
 * head, read the page), and a full-text search in one workspace (autocommit).
 */
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const pg = require('pg');

const ROOT = path.resolve(__dirname, '..');
const { tenantPg } = require(path.join(ROOT, 'dist', 'tenancy', 'tenant-pool.js'));
const { runAsUser } = require(path.join(ROOT, 'dist', 'tenancy', 'tenant-context.js'));

const OWNER_URL = process.env.RLS_MICRO_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pigeon_bench_rlsmicro';
const APP_URL = (() => {
  const url = new URL(OWNER_URL);
  url.username = 'pigeon_app';
  url.password = '';
  return url.toString();
})();
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, '').split('='))
    .map(([k, v]) => [k, Number(v)]),
);
const ROUNDS = args.rounds || 5;
const ITERATIONS = args.iterations || 400;
const WORKSPACES = 20;
const CHANNELS_PER_WORKSPACE = 5;
const MESSAGES_PER_CHANNEL = 400;

const ARRAY_POLICY = `(SELECT pigeon_rls_system()) OR workspace_id = ANY ((SELECT pigeon_rls_workspaces())::uuid[])`;
const EXISTS_POLICY = `(SELECT pigeon_rls_system()) OR EXISTS (SELECT 1 FROM workspace_members wm
   WHERE wm.workspace_id = messages.workspace_id AND wm.user_id = ANY ((SELECT pigeon_rls_users())::uuid[]))`;

async function setup() {
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(OWNER_URL), { pathname: '/postgres' }).toString(),
  });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${new URL(OWNER_URL).pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
  const migrated = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'database', 'migrate.js')], {
    env: { ...process.env, DATABASE_OWNER_URL: OWNER_URL, DATABASE_URL: APP_URL },
    encoding: 'utf8',
  });
  if (migrated.status !== 0) throw new Error(migrated.stderr);
  const db = new pg.Client({ connectionString: OWNER_URL });
  await db.connect();
  // One user in 3 workspaces (the caller), one owner per workspace, channels and messages with words to search.
  await db.query(`
    INSERT INTO users (id, email, password_hash, display_name)
      SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'u' || i || '@x', 'x', 'u' || i FROM generate_series(0, ${WORKSPACES}) i;
    INSERT INTO workspaces (id, name, slug, created_by)
      SELECT ('10000000-0000-4000-8000-' || lpad(w::text, 12, '0'))::uuid, 'w' || w, 'w' || w, ('00000000-0000-4000-8000-' || lpad(w::text, 12, '0'))::uuid
        FROM generate_series(1, ${WORKSPACES}) w;
    INSERT INTO workspace_members (workspace_id, user_id, role)
      SELECT id, created_by, 'owner' FROM workspaces;
    INSERT INTO workspace_members (workspace_id, user_id, role)
      SELECT ('10000000-0000-4000-8000-' || lpad(w::text, 12, '0'))::uuid, '00000000-0000-4000-8000-000000000000', 'member' FROM generate_series(1, 3) w;
    INSERT INTO channels (id, workspace_id, name, kind, created_by)
      SELECT ('20000000-0000-4000-8000-' || lpad((w * 100 + c)::text, 12, '0'))::uuid, ('10000000-0000-4000-8000-' || lpad(w::text, 12, '0'))::uuid,
             'c' || c, 'public', ('00000000-0000-4000-8000-' || lpad(w::text, 12, '0'))::uuid
        FROM generate_series(1, ${WORKSPACES}) w, generate_series(1, ${CHANNELS_PER_WORKSPACE}) c;
    INSERT INTO messages (workspace_id, channel_id, seq, author_id, client_msg_id, kind, body)
      SELECT c.workspace_id, c.id, s, c.created_by, 'm' || s, 'text',
             'message ' || s || ' about ' || (ARRAY['plans','lunch','deploy','budget','review'])[1 + s % 5]
        FROM channels c, generate_series(1, ${MESSAGES_PER_CHANNEL}) s;
    UPDATE channels SET head_seq = ${MESSAGES_PER_CHANNEL};
    ANALYZE;
  `);
  return db;
}

const CALLER = '00000000-0000-4000-8000-000000000000';
const CHANNEL = '20000000-0000-4000-8000-000000000101';
const WORKSPACE = '10000000-0000-4000-8000-000000000001';

const OPERATIONS = {
  history: async (query) => query('SELECT * FROM messages WHERE channel_id = $1 ORDER BY seq DESC LIMIT 50', [CHANNEL]),
  transaction: async (query) => {
    await query('START TRANSACTION');
    try {
      await query('SELECT 1 FROM channels WHERE id = $1 FOR UPDATE', [CHANNEL]);
      await query('SELECT head_seq FROM channels WHERE id = $1', [CHANNEL]);
      await query('SELECT * FROM messages WHERE channel_id = $1 ORDER BY seq DESC LIMIT 50', [CHANNEL]);
      await query('COMMIT');
    } catch (error) {
      await query('ROLLBACK');
      throw error;
    }
  },
  search: async (query) =>
    query(
      `SELECT id FROM messages WHERE workspace_id = $1 AND search_vector @@ websearch_to_tsquery('simple', $2)
        ORDER BY created_at DESC LIMIT 20`,
      [WORKSPACE, 'deploy'],
    ),
};

async function timeOne(pool, useContext, operation) {
  const client = await pool.connect();
  const query = (text, values) => client.query(text, values);
  try {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) {
      if (useContext) await runAsUser(CALLER, () => operation(query));
      else await operation(query);
    }
    return Number(process.hrtime.bigint() - started) / 1000 / ITERATIONS;
  } finally {
    client.release();
  }
}

async function main() {
  const owner = await setup();
  const plain = new pg.Pool({ connectionString: OWNER_URL, max: 1 });
  const tenant = new tenantPg.Pool({ connectionString: APP_URL, max: 1 });
  const results = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated each round, so no variant always runs first (after the policy change) or last.
    const variants = ['none', 'array', 'exists'];
    for (const variant of [...variants.slice(round % 3), ...variants.slice(0, round % 3)]) {
      if (variant !== 'none') {
        await owner.query(
          `ALTER POLICY tenant_workspace ON messages USING (${variant === 'array' ? ARRAY_POLICY : EXISTS_POLICY})`,
        );
      }
      for (const [name, operation] of Object.entries(OPERATIONS)) {
        const micros = await timeOne(variant === 'none' ? plain : tenant, variant !== 'none', operation);
        ((results[name] ??= {})[variant] ??= []).push(micros);
      }
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  process.stdout.write(
    `µs per operation, median of ${ROUNDS} rounds × ${ITERATIONS} (load ${require('node:os')
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})\n`,
  );
  process.stdout.write(
    '| operation | none (owner, no RLS) | array policy (shipped) | exists policy |\n| --- | --- | --- | --- |\n',
  );
  for (const [name, byVariant] of Object.entries(results)) {
    process.stdout.write(
      `| ${name} | ${median(byVariant.none).toFixed(0)} | ${median(byVariant.array).toFixed(0)} | ${median(byVariant.exists).toFixed(0)} |\n`,
    );
  }
  const plan = async (pool, useContext) => {
    const client = await pool.connect();
    try {
      const run = () =>
        client.query(
          `EXPLAIN SELECT id FROM messages WHERE workspace_id = $1 AND search_vector @@ websearch_to_tsquery('simple', $2)`,
          [WORKSPACE, 'deploy'],
        );
      const { rows } = useContext ? await runAsUser(CALLER, run) : await run();
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      client.release();
    }
  };
  await owner.query(`ALTER POLICY tenant_workspace ON messages USING (${ARRAY_POLICY})`);
  process.stdout.write(
    `\nsearch plan without RLS:\n${await plan(plain, false)}\n\nsearch plan with RLS:\n${await plan(tenant, true)}\n`,
  );
  await plain.end();
  await tenant.end();
  await owner.end();
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
