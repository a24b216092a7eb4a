import { Injectable } from '@nestjs/common';
import { channelRoom, userRoom, workspaceRoom } from '../fanout/fanout.service';
import type { ReadyChannel } from '../protocol/wire';
import { RealtimeRepository } from './realtime.repository';

/** Room of a session's sockets, so revoking the session disconnects exactly those. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

export interface ReadyPayload {
  userId: string;
  workspaces: { id: string; role: string; channels: ReadyChannel[] }[];
}

/** What a new socket joins and the `ready` it is sent, from one query. */
@Injectable()
export class ConnectionBootstrap {
  constructor(private readonly repository: RealtimeRepository) {}

  async load(userId: string, sessionId: string | undefined): Promise<{ rooms: string[]; ready: ReadyPayload; workspaceIds: string[] }> {
    const workspaces = new Map<string, ReadyPayload['workspaces'][number]>();
    const rooms = [userRoom(userId)];
    if (sessionId) rooms.push(sessionRoom(sessionId));
    for (const row of await this.repository.memberships(userId)) {
      let workspace = workspaces.get(row.workspace_id);
      if (!workspace) {
        workspace = { id: row.workspace_id, role: row.role, channels: [] };
        workspaces.set(row.workspace_id, workspace);
        rooms.push(workspaceRoom(row.workspace_id));
      }
      if (row.channel_id) {
        workspace.channels.push({
          id: row.channel_id,
          headSeq: Number(row.head_seq),
          lastReadSeq: Number(row.last_read_seq),
          mode: row.mode ?? 'chat',
          unheardCount: Number(row.unheard_count ?? 0),
          unheardTopics: row.unheard_topics ?? [],
        });
        rooms.push(channelRoom(row.channel_id));
      }
    }
    return { rooms, ready: { userId, workspaces: [...workspaces.values()] }, workspaceIds: [...workspaces.keys()] };
  }
}
