import { Injectable } from '@nestjs/common';
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

/** The one access-token verifier, shared by the REST guard and the socket handshake. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfigService,
  ) {}

  signAccess(userId: string): { token: string; expiresAt: number } {
    const ttl = this.config.get('ACCESS_TOKEN_TTL_SECONDS');
    const token = this.jwt.sign(
      { sub: userId, typ: 'access' },
      { algorithm: JWT_ALGORITHM, expiresIn: ttl, secret: this.config.get('JWT_SECRET') },
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
        secret: this.config.get('JWT_SECRET'),
      });
      if (claims.typ !== 'access' || typeof claims.sub !== 'string') throw new Error('wrong token type');
      return { userId: claims.sub, expiresAt: claims.exp * 1000 };
    } catch {
      throw AppException.unauthorized('Invalid or expired access token');
    }
  }
}
