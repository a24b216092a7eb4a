import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfigService } from '../config/app-config.service';
import { SessionRevocations } from './session-revocations.service';
import { AccessTokenClaims, JWT_ALGORITHM, jwtKey } from './token.service';

export interface AuthUser {
  userId: string;
}

/** REST bearer auth: the same secret and pinned algorithm as TokenService.verifyAccess. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfigService,
    private readonly sessions: SessionRevocations,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKey(config.get('JWT_SECRET')) as unknown as string,
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessTokenClaims): AuthUser | false {
    if (claims.typ !== 'access' || typeof claims.sub !== 'string') return false;
    // A logged-out or revoked session ends its access tokens at once, not at their expiry.
    if (this.sessions.isRevoked(claims.sid)) return false;
    return { userId: claims.sub };
  }
}
