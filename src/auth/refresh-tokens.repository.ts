import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RefreshTokenFamily } from './refresh-token-family.entity';
import { RefreshToken } from './refresh-token.entity';

/** Refresh tokens (stored as hashes) and their families, one family per sign-in. */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async createFamily(manager: EntityManager, userId: string): Promise<string> {
    const created = await manager.save(manager.create(RefreshTokenFamily, { userId, revokedAt: null }));
    return created.id;
  }

  async insertToken(
    manager: EntityManager,
    token: Pick<RefreshToken, 'familyId' | 'userId' | 'tokenHash' | 'expiresAt'>,
  ): Promise<void> {
    await manager.insert(RefreshToken, { ...token, spentAt: null });
  }

  /**
   * Spends a live token (unspent, unexpired, family not revoked) and answers whose it was; null when
   * there is no such token. The conditional UPDATE makes two concurrent refreshes spend it once.
   */
  async spend(manager: EntityManager, tokenHash: string): Promise<Pick<RefreshToken, 'userId' | 'familyId'> | null> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [rows]: [{ user_id: string; family_id: string }[], number] = await manager.query(
      `UPDATE refresh_tokens t SET spent_at = now()
         FROM refresh_token_families f
        WHERE t.token_hash = $1 AND t.spent_at IS NULL AND t.expires_at > now()
          AND f.id = t.family_id AND f.revoked_at IS NULL
        RETURNING t.user_id, t.family_id`,
      [tokenHash],
    );
    return rows.length === 1 ? { userId: rows[0].user_id, familyId: rows[0].family_id } : null;
  }

  findByHash(tokenHash: string, manager: EntityManager = this.dataSource.manager): Promise<RefreshToken | null> {
    return manager.findOneBy(RefreshToken, { tokenHash });
  }

  async revokeFamily(familyId: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.update(RefreshTokenFamily, { id: familyId }, { revokedAt: () => 'now()' });
  }
}
