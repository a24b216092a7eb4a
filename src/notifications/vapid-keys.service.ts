import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import webPush from 'web-push';
import { processRole } from '../common/logging';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** Where a generated development pair lives, so every API node and the worker sign with one pair. */
const REDIS_KEY = 'push:vapid';

/**
 * The server's VAPID identity. From VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY when set. Outside production
 * a missing pair is generated once (`SET NX`, first writer wins) and kept in Redis; in production a
 * missing pair disables push (loudly) rather than failing boot, so a deployment without push still runs.
 */
@Injectable()
export class VapidKeysService implements OnModuleInit {
  private readonly logger = new Logger(VapidKeysService.name);
  private loading: Promise<VapidKeys | null> | null = null;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfigService,
  ) {}

  async onModuleInit(): Promise<void> {
    // Resolved at boot so the warning shows up there; a Redis hiccup now is retried on first use.
    await this.keys().catch((error: unknown) => this.logger.error({ err: error }, 'Could not load the VAPID keys'));
  }

  /** The pair, or null when push is disabled. */
  keys(): Promise<VapidKeys | null> {
    if (!this.loading) {
      this.loading = this.load();
      this.loading.catch(() => (this.loading = null));
    }
    return this.loading;
  }

  private async load(): Promise<VapidKeys | null> {
    const subject = this.config.get('VAPID_SUBJECT');
    const publicKey = this.config.get('VAPID_PUBLIC_KEY');
    const privateKey = this.config.get('VAPID_PRIVATE_KEY');
    if (publicKey && privateKey) return { publicKey, privateKey, subject };
    if (this.config.get('NODE_ENV') === 'production') {
      // Once per deployment start: the API says it, the worker beside it only at debug.
      this.logger[processRole() === 'worker' ? 'debug' : 'error'](
        'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are not set: Web Push notifications are DISABLED. ' +
          'Generate a pair with `npx web-push generate-vapid-keys` and set both on every node and the worker.',
      );
      return null;
    }
    const generated = webPush.generateVAPIDKeys();
    await this.redis.set(REDIS_KEY, JSON.stringify(generated), 'NX');
    const stored = JSON.parse((await this.redis.get(REDIS_KEY)) ?? 'null') as Omit<VapidKeys, 'subject'> | null;
    if (!stored) throw new Error(`${REDIS_KEY} vanished right after SET NX`);
    this.logger[processRole() === 'worker' ? 'debug' : 'warn'](
      `VAPID keys are not configured: using a development pair kept in Redis (${REDIS_KEY}). ` +
        'Set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY for anything that should outlive this Redis.',
    );
    return { publicKey: stored.publicKey, privateKey: stored.privateKey, subject };
  }
}
