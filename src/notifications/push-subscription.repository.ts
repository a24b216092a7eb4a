import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One row of `push_subscriptions`. */
export interface PushSubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  expiration_time: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The `push_subscriptions` table. */
@Injectable()
export class PushSubscriptionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Upsert by endpoint: an endpoint is one browser profile, and it belongs to whoever registered it last. */
  async upsert(
    input: Pick<PushSubscriptionRow, 'user_id' | 'endpoint' | 'p256dh' | 'auth' | 'expiration_time'>,
  ): Promise<Pick<PushSubscriptionRow, 'id' | 'endpoint' | 'expiration_time' | 'created_at'>> {
    const rows: Pick<PushSubscriptionRow, 'id' | 'endpoint' | 'expiration_time' | 'created_at'>[] = await this.dataSource.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, expiration_time) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (endpoint) DO UPDATE
         SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
             expiration_time = EXCLUDED.expiration_time, updated_at = now()
       RETURNING id, endpoint, expiration_time, created_at`,
      [input.user_id, input.endpoint, input.p256dh, input.auth, input.expiration_time],
    );
    return rows[0];
  }

  async removeOwned(userId: string, endpoint: string): Promise<void> {
    await this.dataSource.query('DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2', [endpoint, userId]);
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query('DELETE FROM push_subscriptions WHERE id = $1', [id]);
  }

  /** The unexpired subscriptions of these users. */
  activeOf(userIds: string[]): Promise<Pick<PushSubscriptionRow, 'id' | 'user_id' | 'endpoint' | 'p256dh' | 'auth'>[]> {
    return this.dataSource.query(
      `SELECT id, user_id, endpoint, p256dh, auth FROM push_subscriptions
        WHERE user_id = ANY($1::uuid[]) AND (expiration_time IS NULL OR expiration_time > now())`,
      [userIds],
    );
  }
}
