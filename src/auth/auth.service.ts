import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import type { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionRevocations } from './session-revocations.service';
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
    private readonly users: UsersRepository,
    private readonly refreshTokens: RefreshTokensRepository,
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
      const user = await this.users.insertIfAbsent(manager, { email, passwordHash, displayName });
      if (!user) throw AppException.conflict('Email already registered');
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
    const user = await this.users.findByEmail(email);
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
      const spent = await this.refreshTokens.spend(manager, tokenHash);
      if (spent) {
        const user = await this.users.findById(spent.userId, manager);
        if (!user) throw AppException.unauthorized('Invalid refresh token');
        return this.issue(manager, user, spent.familyId);
      }
      // Unknown, expired, revoked or reused: a known token here means reuse, so the family dies.
      const known = await this.refreshTokens.findByHash(tokenHash, manager);
      if (known) await this.refreshTokens.revokeFamily(known.familyId, manager);
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
    const known = await this.refreshTokens.findByHash(hashRefreshToken(refreshToken));
    if (!known) throw AppException.unauthorized('Invalid refresh token');
    await this.refreshTokens.revokeFamily(known.familyId);
    // Its access tokens and sockets end now, on every node, not when the tokens expire.
    await this.sessions.revoke([known.familyId]);
  }

  async me(userId: string) {
    const user = await this.users.findById(userId);
    if (!user) throw AppException.unauthorized('User no longer exists');
    return { id: user.id, email: user.email, displayName: user.displayName };
  }

  private async issue(manager: EntityManager, user: User, familyId: string | undefined): Promise<AuthResult> {
    const family = familyId ?? (await this.refreshTokens.createFamily(manager, user.id));
    const refreshToken = randomBytes(32).toString('base64url');
    const ttlMs = this.config.get('REFRESH_TOKEN_TTL_SECONDS') * 1000;
    await this.refreshTokens.insertToken(manager, {
      familyId: family,
      userId: user.id,
      tokenHash: hashRefreshToken(refreshToken),
      expiresAt: new Date(Date.now() + ttlMs),
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
