import { Injectable } from '@nestjs/common';
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { AppConfigService } from '../config/app-config.service';

/** Signed audio URLs (`voice.url`), each bound to the member it was made for and short-lived. */
@Injectable()
export class AudioUrlSigner {
  private key: Buffer | undefined;

  constructor(private readonly config: AppConfigService) {}

  signedUrl(voiceId: string, userId: string): string {
    const expires = Math.floor(Date.now() / 1000) + this.config.get('AUDIO_URL_TTL_SECONDS');
    return `/api/voice/${voiceId}/audio?u=${userId}&expires=${expires}&sig=${this.sign(voiceId, userId, expires)}`;
  }

  valid(voiceId: string, userId: string, expires: string | undefined, sig: string | undefined): boolean {
    if (!expires || !sig || !/^\d{1,12}$/.test(expires) || Number(expires) < Date.now() / 1000) return false;
    if (!/^[0-9a-f-]{36}$/i.test(userId) || !/^[0-9a-f]{64}$/i.test(sig)) return false;
    const expected = Buffer.from(this.sign(voiceId, userId, Number(expires)), 'hex');
    const given = Buffer.from(sig, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(voiceId: string, userId: string, expires: number): string {
    return createHmac('sha256', this.urlKey()).update(`voice-audio:${voiceId}:${userId}:${expires}`).digest('hex');
  }

  /** A key of its own: AUDIO_URL_SECRET, else one derived from JWT_SECRET, so a URL never exposes the token key. */
  private urlKey(): Buffer {
    if (!this.key) {
      const secret = this.config.get('AUDIO_URL_SECRET');
      this.key = secret
        ? Buffer.from(secret)
        : Buffer.from(hkdfSync('sha256', this.config.get('JWT_SECRET'), 'pigeon', 'voice-audio-url', 32));
    }
    return this.key;
  }
}
