import { Injectable } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { targetProblem } from '../webhooks/public-target';
import type { CreatePushSubscriptionDto, PushSubscriptionDto, VapidPublicKeyDto } from './dto/push-subscription.dto';
import { PushSubscriptionRepository } from './push-subscription.repository';
import { VapidKeysService } from './vapid-keys.service';

/** A user's Web Push subscriptions (REST side). */
@Injectable()
export class PushSubscriptionsService {
  constructor(
    private readonly subscriptionRows: PushSubscriptionRepository,
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
    const row = await this.subscriptionRows.upsert({
      user_id: userId,
      endpoint: dto.endpoint,
      p256dh: dto.keys.p256dh.replace(/=+$/, ''),
      auth: dto.keys.auth.replace(/=+$/, ''),
      expiration_time: expiresAt,
    });
    return {
      id: row.id,
      endpoint: row.endpoint,
      expirationTime: row.expiration_time ? row.expiration_time.getTime() : null,
      createdAt: row.created_at.toISOString(),
    };
  }

  /** Idempotent: removing an endpoint the caller does not own (or that is already gone) changes nothing. */
  async unsubscribe(userId: string, endpoint: string): Promise<void> {
    await this.subscriptionRows.removeOwned(userId, endpoint);
  }

  private async requireKeys() {
    const keys = await this.vapid.keys();
    // Push disabled (production without VAPID keys): clients should hide the feature.
    if (!keys) throw new AppException(ErrorCode.NOT_FOUND, 'Push notifications are not configured');
    return keys;
  }
}
