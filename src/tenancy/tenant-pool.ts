import pg from 'pg';
import { inlineParameters } from './inline-parameters';
import { contextKey, currentTenant, MissingTenantContextError, type TenantContext } from './tenant-context';

/**
 * The pg driver the application's DataSource uses: every statement runs in a transaction that first
 * calls `pigeon_tenant_enter(users, scope)`, which sets `pigeon.*` transaction-locally (set_config(...,
 * true)) for the row-level security policies. Because nothing is set for the session, no setting can
 * outlive its transaction or leak to the next checkout of a pooled connection.
 * - A transaction the caller opens (TypeORM's START TRANSACTION) carries the call in the same
 *   simple-protocol message: no extra round trip.
 * - A statement outside a transaction goes with the enter call in one simple-protocol message (its
 *   values inlined as literals, inline-parameters.ts), which Postgres runs as one implicit
 *   transaction; when that cannot be exact it is wrapped: BEGIN + enter, the statement, COMMIT.
 * - Inside a transaction, a statement whose context differs from the applied one (a nested scope)
 *   calls the function again first.
 * This sits below TypeORM (DataSource.query, managers, query runners and raw pooled clients all
 * end here), so it does not matter which file a query lives in.
 */

interface ClientState {
  inTransaction: boolean;
  /** contextKey of what pigeon_tenant_enter last set in this transaction; null: nothing yet. */
  appliedKey: string | null;
  /** Statements run in this transaction after START (a SET TRANSACTION must come first). */
  statements: number;
  /** The client's own query, below this wrapper. */
  raw: Query;
}

type Query = (...args: unknown[]) => Promise<unknown>;

const STATE = Symbol('pigeonTenantState');
type InstrumentedClient = pg.PoolClient & { [STATE]?: ClientState };

const BEGIN = /^\s*(START\s+TRANSACTION|BEGIN)\b[^;]*;?\s*$/i;
const END = /^\s*(COMMIT|END|ROLLBACK|ABORT)\s*;?\s*$/i;
const ROLLBACK_TO = /^\s*ROLLBACK\s+TO\b/i;
const SET_TRANSACTION = /^\s*SET\s+TRANSACTION\b/i;

/** The SQL that applies a context; ids and scope names are validated by tenant-context.ts. */
export function enterSql(context: TenantContext): string {
  return context.kind === 'system'
    ? `SELECT pigeon_tenant_enter('{}'::uuid[], '${context.scope}')`
    : `SELECT pigeon_tenant_enter('{${context.userIds.join(',')}}'::uuid[], NULL)`;
}

function textOf(first: unknown): string | undefined {
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string')
    return (first as { text: string }).text;
  return undefined;
}

function requireContext(): TenantContext {
  const context = currentTenant();
  if (!context) throw new MissingTenantContextError();
  return context;
}

/** `query(text)` or `query(text, values)`: nothing (a config object, a row mode) that a literal rewrite could lose. */
function isTextAndValues(args: unknown[]): boolean {
  return typeof args[0] === 'string' && args.length <= 2 && (args[1] === undefined || Array.isArray(args[1]));
}

function lastOf(result: unknown): unknown {
  return Array.isArray(result) ? result[0] : result;
}

async function run(state: ClientState, raw: Query, args: unknown[]): Promise<unknown> {
  const text = textOf(args[0]);
  // TypeORM passes (text, undefined) or (text, []) for statements without parameters.
  const plain = typeof args[0] === 'string' && (args[1] === undefined || (Array.isArray(args[1]) && args[1].length === 0));
  if (text !== undefined && BEGIN.test(text)) {
    const context = requireContext();
    const result = plain ? await raw(`${text}; ${enterSql(context)}`) : await raw(...args);
    state.inTransaction = true;
    state.statements = 0;
    state.appliedKey = plain ? contextKey(context) : null;
    return lastOf(result);
  }
  if (text !== undefined && END.test(text)) {
    try {
      return await raw(...args);
    } finally {
      state.inTransaction = false;
      state.appliedKey = null;
    }
  }
  if (state.inTransaction) {
    const context = requireContext();
    if (text !== undefined && SET_TRANSACTION.test(text) && state.statements === 0) {
      // It must precede every query, and the enter call was one: start over with it first.
      await raw(`ROLLBACK; START TRANSACTION; ${text}; ${enterSql(context)}`);
      state.appliedKey = contextKey(context);
      return undefined;
    }
    const key = contextKey(context);
    if (state.appliedKey !== key) {
      await raw(enterSql(context));
      state.appliedKey = key;
    }
    state.statements++;
    const result = await raw(...args);
    // Settings made after a savepoint are undone with it.
    if (text !== undefined && ROLLBACK_TO.test(text)) state.appliedKey = null;
    return result;
  }
  const context = requireContext();
  // The common case, one statement with plain values: the context and the statement in one
  // simple-protocol message, which Postgres runs as one implicit transaction (one round trip, not three).
  const inlined = text !== undefined && isTextAndValues(args) ? inlineParameters(text, (args[1] as unknown[] | undefined) ?? []) : null;
  if (inlined !== null) {
    state.inTransaction = true;
    try {
      const results = (await raw(`${enterSql(context)}; ${inlined}`)) as unknown[];
      return results.length === 2 ? results[1] : results.slice(1);
    } finally {
      state.inTransaction = false;
      state.appliedKey = null;
    }
  }
  state.inTransaction = true;
  try {
    await raw(`BEGIN; ${enterSql(context)}`);
    const result = await raw(...args);
    await raw('COMMIT');
    return result;
  } catch (error) {
    await raw('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    state.inTransaction = false;
    state.appliedKey = null;
  }
}

function instrument(client: InstrumentedClient): ClientState {
  const existing = client[STATE];
  if (existing) return existing;
  const original = client.query.bind(client) as unknown as Query;
  const state: ClientState = { inTransaction: false, appliedKey: null, statements: 0, raw: original };
  const query = (...args: unknown[]): unknown => {
    const callback =
      typeof args[args.length - 1] === 'function' ? (args.pop() as (e: unknown, r?: unknown) => void) : undefined;
    const first = args[0] as { submit?: unknown } | undefined;
    if (first && typeof first.submit === 'function') {
      // A Submittable (cursor, stream) cannot be wrapped; it may only run inside a context's transaction.
      if (!state.inTransaction) throw new MissingTenantContextError();
      return (original as (...a: unknown[]) => unknown)(...args, ...(callback ? [callback] : []));
    }
    let promise: Promise<unknown>;
    try {
      promise = run(state, original, args);
    } catch (error) {
      promise = Promise.reject(error);
    }
    if (!callback) return promise;
    promise.then(
      (result) => callback(null, result),
      (error: unknown) => callback(error),
    );
    return undefined;
  };
  (client as unknown as { query: unknown }).query = query;
  client[STATE] = state;
  return state;
}

/**
 * Opens a transaction on a client of this pool, applies the current context and runs `statement`,
 * in one simple-protocol message (one round trip) when its values can be inlined exactly
 * (inline-parameters.ts), otherwise in two; answers the statement's result.
 */
export async function beginTransactionWith(client: pg.PoolClient, statement: { text: string; values: unknown[] }): Promise<pg.QueryResult> {
  const state = (client as InstrumentedClient)[STATE];
  if (!state) throw new Error('beginTransactionWith: the client does not come from the tenant pool');
  if (state.inTransaction) throw new Error('beginTransactionWith: the client is already in a transaction');
  const context = requireContext();
  state.inTransaction = true;
  state.statements = 1;
  state.appliedKey = contextKey(context);
  const inlined = inlineParameters(statement.text, statement.values);
  if (inlined === null) {
    await state.raw(`START TRANSACTION; ${enterSql(context)}`);
    return (await state.raw(statement.text, statement.values)) as pg.QueryResult;
  }
  const results = (await state.raw(`START TRANSACTION; ${enterSql(context)}; ${inlined}`)) as pg.QueryResult[];
  return results[results.length - 1];
}

/** Readies a client checked out of the pool: instrumented, and never inside someone else's transaction. */
async function prepare(client: InstrumentedClient): Promise<void> {
  const state = instrument(client);
  if (state.inTransaction) {
    // Released in the middle of a transaction: end it before anyone else runs a statement in it.
    state.inTransaction = false;
    state.appliedKey = null;
    await (client.query as unknown as Query)('ROLLBACK');
  }
}

type ConnectCallback = (
  error: Error | undefined,
  client: pg.PoolClient | undefined,
  release: (error?: Error | boolean) => void,
) => void;

class TenantPool extends pg.Pool {
  // pg-pool's connect has a callback form (TypeORM's) and a promise form; both hand out prepared clients.
  override connect(...args: unknown[]): never {
    const callback = args[0] as ConnectCallback | undefined;
    const base = pg.Pool.prototype.connect as unknown as (cb?: ConnectCallback) => Promise<pg.PoolClient> | undefined;
    if (!callback) {
      return (base.call(this) as Promise<pg.PoolClient>).then(async (client) => {
        try {
          await prepare(client);
        } catch (error) {
          client.release(error as Error);
          throw error;
        }
        return client;
      }) as never;
    }
    base.call(this, (error, client, release) => {
      if (error || !client) return callback(error, client, release);
      prepare(client).then(
        () => callback(undefined, client, release),
        (failure: Error) => {
          release(failure);
          callback(failure, undefined, () => undefined);
        },
      );
    });
    return undefined as never;
  }
}

/** The `pg` module with a tenant-aware Pool, for TypeORM's `driver` option. */
export const tenantPg: typeof pg = Object.create(pg, { Pool: { value: TenantPool, enumerable: true } }) as typeof pg;
