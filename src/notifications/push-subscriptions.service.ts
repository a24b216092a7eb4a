import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { targetProblem } from '../webhooks/public-target';
import type { CreatePushSubscriptionDto, PushSubscriptionDto, VapidPublicKeyDto } from './dto/push-subscription.dto';
import { VapidKeysService } from './vapid-keys.service';

/** A user's Web Push subscriptions (REST side). */
@Injectable()
export class PushSubscriptionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfigService,
    private readonly vapid: VapidKeysService,
  ) {}

  async publicKey(): Promise<VapidPublicKeyDto> {
    return { publicKey: (await this.requireKeys()).publicKey };
  }

  /** Upsert by endpoint: an endpoint is one browser profile, and it belongs to whoever registered it last. */
  async subscribe(userId: string, dto: CreatePushSubscriptionDto): Promise<PushSubscriptionDto> {
    await this.requireKeys();
    const problem = await targetProblem(dto.endpoint, this.config.get('ALLOW_PRIVATE_TARGETS'));
    if (problem) {
      const message = problem.replace(/^url/, 'endpoint');
      throw AppException.validation(message, [{ field: 'endpoint', message }]);
    }
    const expiresAt =
      dto.expirationTime === undefined || dto.expirationTime === null ? null : new Date(dto.expirationTime);
    const rows: { id: string; endpoint: string; expiration_time: Date | null; created_at: Date }[] =
      await this.dataSource.query(
        `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, expiration_time) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (endpoint) DO UPDATE
           SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
               expiration_time = EXCLUDED.expiration_time, updated_at = now()
         RETURNING id, endpoint, expiration_time, created_at`,
        [userId, dto.endpoint, dto.keys.p256dh.replace(/=+$/, ''), dto.keys.auth.replace(/=+$/, ''), expiresAt],
      );
    const row = rows[0];
    return {
      id: row.id,
      endpoint: row.endpoint,
      expirationTime: row.expiration_time ? row.expiration_time.getTime() : null,
      createdAt: row.created_at.toISOString(),
    };
  }

  /** Idempotent: removing an endpoint the caller does not own (or that is already gone) changes nothing. */
  async unsubscribe(userId: string, endpoint: string): Promise<void> {
    await this.dataSource.query('DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2', [
      endpoint,
      userId,
    ]);
  }

  private async requireKeys() {
    const keys = await this.vapid.keys();
    // Push disabled (production without VAPID keys): clients should hide the feature.
    if (!keys) throw new AppException(ErrorCode.NOT_FOUND, 'Push notifications are not configured');
    return keys;
  }
}
