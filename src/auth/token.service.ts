import { Injectable } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AppConfigService } from '../config/app-config.service';
import { AppException } from '../common/app.exception';

export interface AccessTokenClaims {
  sub: string;
  typ: 'access';
  iat: number;
  exp: number;
}

export interface VerifiedAccess {
  userId: string;
  expiresAt: number;
}

/** Algorithm pinned on sign and verify so `alg: none` or RS/HS confusion is refused. */
export const JWT_ALGORITHM = 'HS256' as const;

/**
 * A key object made once: given the secret as a string, jsonwebtoken first tries (and fails) to
 * parse it as a public key on every call, which cost 0.7 ms per verify here (0.014 ms with this).
 */
export function jwtKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** The one access-token verifier, shared by the REST guard and the socket handshake. */
@Injectable()
export class TokenService {
  private readonly key: KeyObject;

  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfigService,
  ) {
    this.key = jwtKey(config.get('JWT_SECRET'));
  }

  signAccess(userId: string): { token: string; expiresAt: number } {
    const ttl = this.config.get('ACCESS_TOKEN_TTL_SECONDS');
    const token = this.jwt.sign(
      { sub: userId, typ: 'access' },
      { algorithm: JWT_ALGORITHM, expiresIn: ttl, privateKey: this.key as unknown as Buffer },
    );
    const claims = this.jwt.decode<AccessTokenClaims>(token);
    return { token, expiresAt: claims.exp * 1000 };
  }

  verifyAccess(token: unknown): VerifiedAccess {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw AppException.unauthorized('Missing access token');
    }
    try {
      const claims = this.jwt.verify<AccessTokenClaims>(token, {
        algorithms: [JWT_ALGORITHM],
        // jsonwebtoken takes a KeyObject; @nestjs/jwt's option types only name strings and Buffers.
        publicKey: this.key as unknown as Buffer,
      });
      if (claims.typ !== 'access' || typeof claims.sub !== 'string') throw new Error('wrong token type');
      return { userId: claims.sub, expiresAt: claims.exp * 1000 };
    } catch {
      throw AppException.unauthorized('Invalid or expired access token');
    }
  }
}
