import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { User } from '../users/user.entity';
import { PasswordService } from './password.service';
import { SessionRevocations } from './session-revocations.service';
import { RefreshTokenFamily } from './refresh-token-family.entity';
import { RefreshToken } from './refresh-token.entity';
import { TokenService } from './token.service';

export interface AuthResult {
  user: { id: string; email: string; displayName: string };
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
}

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly config: AppConfigService,
    private readonly sessions: SessionRevocations,
    private readonly rateLimit: RateLimitService,
  ) {}

  async register(email: string, password: string, displayName: string, address: string): Promise<AuthResult> {
    // Counted before the Argon2 hash: a flood of sign-ups costs a Redis call each, not 19 MiB of hashing.
    await this.rateLimit.consumeAuthCall(address);
    const passwordHash = await this.passwords.hash(password);
    return this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(User)
        .values({ email, passwordHash, displayName })
        .orIgnore()
        .returning('*')
        .execute();
      if (inserted.raw.length === 0) throw AppException.conflict('Email already registered');
      const user = await manager.findOneByOrFail(User, { email });
      return this.issue(manager, user, undefined);
    });
  }

  /**
   * Failed logins are counted per (email, source address): after LOGIN_FAILURES_MAX in the window that
   * pair is refused before any hash is computed, known email or not, so nothing is learned about which
   * emails exist, and the same account can still be reached from other addresses.
   */
  async login(email: string, password: string, address: string): Promise<AuthResult> {
    await this.rateLimit.beginLoginAttempt(email, address);
    const user = await this.dataSource.getRepository(User).findOneBy({ email });
    const ok = await this.passwords.verify(user?.passwordHash, password);
    if (!user || !ok) throw AppException.unauthorized('Invalid email or password');
    await this.rateLimit.loginSucceeded(email, address);
    return this.dataSource.transaction((manager) => this.issue(manager, user, undefined));
  }

  /** Rotates: the presented token is spent; presenting a spent token revokes its whole family. */
  async refresh(refreshToken: string, address: string): Promise<AuthResult> {
    await this.rateLimit.consumeAuthCall(address);
    const tokenHash = hashRefreshToken(refreshToken);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const spent = await manager.query(
        `UPDATE refresh_tokens t SET spent_at = now()
           FROM refresh_token_families f
          WHERE t.token_hash = $1 AND t.spent_at IS NULL AND t.expires_at > now()
            AND f.id = t.family_id AND f.revoked_at IS NULL
          RETURNING t.user_id, t.family_id`,
        [tokenHash],
      );
      const rows = spent[0] as { user_id: string; family_id: string }[];
      if (rows.length === 1) {
        const user = await manager.findOneByOrFail(User, { id: rows[0].user_id });
        return this.issue(manager, user, rows[0].family_id);
      }
      // Unknown, expired, revoked or reused: a known token here means reuse, so the family dies.
      const known = await manager.findOneBy(RefreshToken, { tokenHash });
      if (known) await this.revokeFamily(manager, known.familyId);
      return known ? { revoked: known.familyId } : null;
    });
    if (outcome && 'revoked' in outcome) {
      await this.sessions.revoke([outcome.revoked]);
      throw AppException.unauthorized('Invalid refresh token');
    }
    if (!outcome) throw AppException.unauthorized('Invalid refresh token');
    return outcome;
  }

  async logout(refreshToken: string): Promise<void> {
    const known = await this.dataSource.getRepository(RefreshToken).findOneBy({ tokenHash: hashRefreshToken(refreshToken) });
    if (!known) throw AppException.unauthorized('Invalid refresh token');
    await this.revokeFamily(this.dataSource.manager, known.familyId);
    // Its access tokens and sockets end now, on every node, not when the tokens expire.
    await this.sessions.revoke([known.familyId]);
  }

  async me(userId: string) {
    const user = await this.dataSource.getRepository(User).findOneBy({ id: userId });
    if (!user) throw AppException.unauthorized('User no longer exists');
    return { id: user.id, email: user.email, displayName: user.displayName };
  }

  private async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.update(RefreshTokenFamily, { id: familyId }, { revokedAt: () => 'now()' });
  }

  private async issue(manager: EntityManager, user: User, familyId: string | undefined): Promise<AuthResult> {
    let family = familyId;
    if (!family) {
      const created = await manager.save(manager.create(RefreshTokenFamily, { userId: user.id, revokedAt: null }));
      family = created.id;
    }
    const refreshToken = randomBytes(32).toString('base64url');
    const ttlMs = this.config.get('REFRESH_TOKEN_TTL_SECONDS') * 1000;
    await manager.insert(RefreshToken, {
      familyId: family,
      userId: user.id,
      tokenHash: hashRefreshToken(refreshToken),
      expiresAt: new Date(Date.now() + ttlMs),
      spentAt: null,
    });
    const access = this.tokens.signAccess(user.id, family);
    return {
      user: { id: user.id, email: user.email, displayName: user.displayName },
      accessToken: access.token,
      refreshToken,
      accessTokenExpiresAt: new Date(access.expiresAt).toISOString(),
    };
  }
}
