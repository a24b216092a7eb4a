// First: the environment must be in place before the config module reads it.
import './medium-env';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessService } from '../../src/access/access.service';
import { EventsCommittedHandler, type OnEventsCommitted } from '../../src/fanout/events-committed';
import { type ChannelLogTxHook, ChannelLogTxHookProvider } from '../../src/messages/channel-log.hooks';
import type { EventEnvelope } from '../../src/messages/message.view';
import type { SqlCtes, SqlParams } from '../../src/common/sql-params';
import { runAsSystem } from '../../src/tenancy/tenant-context';
import { MessagesModule } from '../../src/messages/messages.module';
import { MessageWriter } from '../../src/messages/send/message-writer';
import type { PendingSend, SendResult } from '../../src/messages/send/send.types';
import { INFRASTRUCTURE_MODULES } from '../../src/infrastructure.modules';

/**
 * The middle test tier: the messages feature in a Nest testing module, in this process, against
 * the real Postgres and Redis of the run (no HTTP, no sockets). One app is one "node"; two apps
 * share the database as two API nodes do.
 */

/** Every committed batch, as the committed-events handlers get it. */
@Injectable()
@EventsCommittedHandler()
export class CommittedRecorder implements OnEventsCommitted {
  readonly batches: EventEnvelope[][] = [];

  onEventsCommitted(events: readonly EventEnvelope[]): void {
    this.batches.push([...events]);
  }

  get events(): EventEnvelope[] {
    return this.batches.flat();
  }
}

/**
 * An in-transaction hook: sees each transaction's events with the heads already moved; can be made to
 * fail once. In the statement form (ChannelLog.writeInOneStatement) it inserts the moved heads it
 * reads into a table of its own; `settle()` reads them back into its calls.
 */
@Injectable()
@ChannelLogTxHookProvider()
export class TxHookRecorder implements ChannelLogTxHook {
  readonly calls: { events: EventEnvelope[]; headSeqs: Map<string, number> }[] = [];
  /** Fails the first transaction whose events match, once. */
  failOnce: ((events: readonly EventEnvelope[]) => boolean) | null = null;
  /** Once: ends the write's connection from the server side while the write holds it (Postgres gone). */
  terminateOnce = false;
  /** The table the statement form writes to (made by startMessagesApp). */
  probeTable = '';
  private db: DataSource | null = null;

  async inTransaction(manager: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
    const ids = [...new Set(events.map((e) => e.channelId))];
    const rows: { id: string; head_seq: string }[] = await manager.query('SELECT id, head_seq FROM channels WHERE id = ANY($1::uuid[])', [ids]);
    this.calls.push({ events: [...events], headSeqs: new Map(rows.map((r) => [r.id, Number(r.head_seq)])) });
    this.maybeFail(events);
  }

  async inStatement(params: SqlParams, events: readonly EventEnvelope[]): Promise<SqlCtes | null> {
    this.calls.push({ events: [...events], headSeqs: new Map() });
    this.maybeFail(events);
    if (this.terminateOnce) {
      this.terminateOnce = false;
      // The write's connection sits idle in its transaction, holding the head locks, while hooks run.
      const [ended]: { n: number }[] = await runAsSystem('medium-test.setup', () =>
        this.db!.query(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'idle in transaction' AND query LIKE '%FOR UPDATE%' AND pid <> pg_backend_pid()`,
        ),
      );
      if (ended.n !== 1) throw new Error(`terminateOnce: expected the one write's connection, ended ${ended.n}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return `tx_hook_probe AS (
      INSERT INTO ${this.probeTable} (call, channel_id, head_seq) SELECT ${params.bind(this.calls.length - 1, 'int')}, id, head_seq FROM moved
    )`;
  }

  /** Fills in the head seqs the statement-form calls read (those that committed). */
  async settle(): Promise<void> {
    const rows: { call: number; channel_id: string; head_seq: string }[] = await this.db!.query(`SELECT * FROM ${this.probeTable}`);
    for (const row of rows) this.calls[row.call].headSeqs.set(row.channel_id, Number(row.head_seq));
  }

  async open(db: DataSource): Promise<void> {
    this.db = db;
    this.probeTable = `medium_tx_hook_probe_${randomUUID().replaceAll('-', '')}`;
    await db.query(`CREATE TABLE ${this.probeTable} (call int NOT NULL, channel_id uuid NOT NULL, head_seq bigint NOT NULL)`);
  }

  async drop(): Promise<void> {
    if (this.db && this.probeTable) await this.db.query(`DROP TABLE IF EXISTS ${this.probeTable}`);
  }

  private maybeFail(events: readonly EventEnvelope[]): void {
    if (this.failOnce?.(events)) {
      this.failOnce = null;
      throw new Error('outbox unavailable');
    }
  }
}

export interface MessagesApp {
  app: INestApplicationContext;
  db: DataSource;
  committed: CommittedRecorder;
  txHook: TxHookRecorder;
  /** The size of every batch the writer was given, in order. */
  writes: number[];
  /** Holds the next write until the returned function is called (the queue fills meanwhile). */
  holdNextWrite(): () => void;
  close(): Promise<void>;
}

export async function startMessagesApp(): Promise<MessagesApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [...INFRASTRUCTURE_MODULES, MessagesModule],
    providers: [CommittedRecorder, TxHookRecorder],
  }).compile();
  const app = await moduleRef.init();
  const txHook = app.get(TxHookRecorder);
  await runAsSystem('medium-test.setup', () => txHook.open(app.get(DataSource)));
  const writer = app.get(MessageWriter);
  const commit = writer.commit.bind(writer);
  const writes: number[] = [];
  let hold: Promise<void> | null = null;
  // The real writer, observed: batch sizes are recorded and a write can be held back.
  writer.commit = async (batch: readonly PendingSend[]): Promise<SendResult[]> => {
    writes.push(batch.length);
    const gate = hold;
    hold = null;
    if (gate) await gate;
    return commit(batch);
  };
  return {
    app,
    db: app.get(DataSource),
    committed: app.get(CommittedRecorder),
    txHook,
    writes,
    holdNextWrite() {
      let release!: () => void;
      hold = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    close: async () => {
      await runAsSystem('medium-test.setup', () => txHook.drop());
      await app.close();
    },
  };
}

export interface Seeded {
  workspaceId: string;
  userIds: string[];
  channelIds: string[];
}

/** A workspace with `users` members and `channels` public channels every member is in (SQL, no events). */
export async function seed(db: DataSource, users = 2, channels = 1): Promise<Seeded> {
  const userIds: string[] = [];
  for (let i = 0; i < users; i++) {
    const [row]: { id: string }[] = await db.query(
      `INSERT INTO users (email, password_hash, display_name) VALUES ($1, 'x', $2) RETURNING id`,
      [`medium-${randomUUID()}@example.test`, `user ${i}`],
    );
    userIds.push(row.id);
  }
  const [workspace]: { id: string }[] = await db.query(
    `INSERT INTO workspaces (name, slug, created_by) VALUES ('Medium', $1, $2) RETURNING id`,
    [`m-${randomUUID().slice(0, 12)}`, userIds[0]],
  );
  await db.query(
    `INSERT INTO workspace_members (workspace_id, user_id, role) SELECT $1, u, 'member' FROM unnest($2::uuid[]) AS u`,
    [workspace.id, userIds],
  );
  const channelIds: string[] = [];
  for (let i = 0; i < channels; i++) {
    const [channel]: { id: string }[] = await db.query(
      `INSERT INTO channels (workspace_id, name, kind, created_by) VALUES ($1, $2, 'public', $3) RETURNING id`,
      [workspace.id, `c${i}`, userIds[0]],
    );
    await db.query(
      `INSERT INTO channel_members (channel_id, user_id, workspace_id) SELECT $1, u, $2 FROM unnest($3::uuid[]) AS u`,
      [channel.id, workspace.id, userIds],
    );
    channelIds.push(channel.id);
  }
  return { workspaceId: workspace.id, userIds, channelIds };
}

/**
 * Loads the node's membership cache for every (user, channel) pair. A send is queued after its
 * access check; with the cache warm every check takes the same turns, so sends queue in call order
 * (as a socket's sends do), which the order assertions rely on.
 */
export async function warmAccess(node: MessagesApp, seeded: Seeded): Promise<void> {
  const access = node.app.get(AccessService);
  for (const channelId of seeded.channelIds) {
    for (const userId of seeded.userIds) await access.requireChannelMember(channelId, userId);
  }
}

/** The channel's log as stored: seqs in order, the head, and the messages' seqs. */
export async function channelState(db: DataSource, channelId: string) {
  const events: { seq: string; type: string; data: { id?: string } }[] = await db.query(
    'SELECT seq, type, data FROM channel_events WHERE channel_id = $1 ORDER BY seq',
    [channelId],
  );
  const [head]: { head_seq: string }[] = await db.query('SELECT head_seq FROM channels WHERE id = $1', [channelId]);
  const messages: { id: string; seq: string; client_msg_id: string }[] = await db.query(
    'SELECT id, seq, client_msg_id FROM messages WHERE channel_id = $1 ORDER BY seq',
    [channelId],
  );
  return {
    seqs: events.map((e) => Number(e.seq)),
    events,
    headSeq: Number(head.head_seq),
    messages: messages.map((m) => ({ id: m.id, seq: Number(m.seq), clientMsgId: m.client_msg_id })),
  };
}

export const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);
