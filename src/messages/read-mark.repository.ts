import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The `channel_members.last_read_seq` mark. */
@Injectable()
export class ReadMarkRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The mark never moves back or past the head. Answers the mark as it now is. */
  async advance(channelId: string, userId: string, seq: number): Promise<number> {
    const [rows]: [{ last_read_seq: string }[], number] = await this.dataSource.query(
      `UPDATE channel_members cm
          SET last_read_seq = GREATEST(cm.last_read_seq, LEAST($3::bigint, c.head_seq))
         FROM channels c
        WHERE cm.channel_id = $1 AND cm.user_id = $2 AND c.id = cm.channel_id
        RETURNING cm.last_read_seq`,
      [channelId, userId, seq],
    );
    return Number(rows[0]?.last_read_seq ?? 0);
  }
}
