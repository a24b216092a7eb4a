import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Channel, type ChannelMode } from '../channels/channel.entity';
import { entityRows, RowMapper } from '../database/entity-rows';

/** Postgres side of push-to-talk: a channel's mode, and the recordings a holder has open. */
@Injectable()
export class ChannelModeRepository {
  private readonly toChannel: RowMapper<Channel>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.toChannel = entityRows(dataSource, Channel);
  }

  async mode(channelId: string): Promise<ChannelMode | null> {
    const rows: { mode: ChannelMode }[] = await this.dataSource.query('SELECT mode FROM channels WHERE id = $1', [channelId]);
    return rows[0]?.mode ?? null;
  }

  /** Sets the mode in the caller's transaction (which holds the channel's row lock); null if unchanged. */
  async setMode(manager: EntityManager, channelId: string, mode: ChannelMode): Promise<Channel | null> {
    const [rows]: [Record<string, unknown>[], number] = await manager.query(
      'UPDATE channels SET mode = $2 WHERE id = $1 AND mode <> $2 RETURNING *',
      [channelId, mode],
    );
    return rows.length ? this.toChannel(rows[0]) : null;
  }

  async channel(channelId: string): Promise<Channel | null> {
    const rows: Record<string, unknown>[] = await this.dataSource.query('SELECT * FROM channels WHERE id = $1', [channelId]);
    return rows.length ? this.toChannel(rows[0]) : null;
  }

  /** Live recordings of a user in a channel (normally at most one): finalized when the floor is lost. */
  async openRecordings(channelId: string, userId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT v.id FROM voice_clips v JOIN messages m ON m.id = v.message_id
        WHERE v.channel_id = $1 AND m.author_id = $2 AND v.status = 'recording'`,
      [channelId, userId],
    );
    return rows.map((row) => row.id);
  }
}
