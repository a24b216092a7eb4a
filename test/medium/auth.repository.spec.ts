import { Module } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RefreshTokensRepository } from '../../src/auth/refresh-tokens.repository';
import { UsersModule } from '../../src/users/users.module';
import { UsersRepository } from '../../src/users/users.repository';
import { databaseModule, Seed } from './database';

@Module({ providers: [RefreshTokensRepository] })
class RefreshTokensTestModule {}

/** Users and refresh-token repositories against the real Postgres. */
describe('auth repositories (medium)', () => {
  let module: TestingModule;
  let dataSource: DataSource;
  let seed: Seed;
  let users: UsersRepository;
  let tokens: RefreshTokensRepository;

  beforeAll(async () => {
    ({ module, dataSource } = await databaseModule([UsersModule, RefreshTokensTestModule]));
    seed = new Seed(dataSource);
    users = module.get(UsersRepository);
    tokens = module.get(RefreshTokensRepository);
  });

  afterAll(() => module.close());

  describe(UsersRepository.name, () => {
    it('inserts a user as its entity and answers null for a registered email', async () => {
      const email = `u-${randomUUID()}@medium.test`;
      const sut = await users.insertIfAbsent(dataSource.manager, { email, passwordHash: 'h', displayName: 'U' });
      expect(sut).toMatchObject({ email, passwordHash: 'h', displayName: 'U' });
      expect(sut?.createdAt).toBeInstanceOf(Date);
      expect(
        await users.insertIfAbsent(dataSource.manager, { email, passwordHash: 'h2', displayName: 'V' }),
      ).toBeNull();
      expect((await users.findByEmail(email))?.id).toBe(sut?.id);
      expect((await users.findById(sut!.id))?.email).toBe(email);
    });
  });

  describe(RefreshTokensRepository.name, () => {
    const issue = async (userId: string, options: { expiresAt?: Date } = {}) => {
      const familyId = await tokens.createFamily(dataSource.manager, userId);
      const tokenHash = randomUUID().replaceAll('-', '').padEnd(64, '0');
      const expiresAt = options.expiresAt ?? new Date(Date.now() + 60_000);
      await tokens.insertToken(dataSource.manager, { familyId, userId, tokenHash, expiresAt });
      return { familyId, tokenHash };
    };

    it('spends a live token once, also when two refreshes race', async () => {
      const userId = await seed.user('spender');
      const { familyId, tokenHash } = await issue(userId);
      const outcomes = await Promise.all(
        [1, 2, 3].map(() => dataSource.transaction((manager) => tokens.spend(manager, tokenHash))),
      );
      expect(outcomes.filter((outcome) => outcome !== null)).toEqual([{ userId, familyId }]);
      expect((await tokens.findByHash(tokenHash))?.spentAt).toBeInstanceOf(Date);
    });

    it('does not spend an expired token or one of a revoked family', async () => {
      const userId = await seed.user('expired');
      const expired = await issue(userId, { expiresAt: new Date(Date.now() - 1000) });
      expect(await tokens.spend(dataSource.manager, expired.tokenHash)).toBeNull();
      const revoked = await issue(userId);
      await tokens.revokeFamily(revoked.familyId);
      expect(await tokens.spend(dataSource.manager, revoked.tokenHash)).toBeNull();
      expect((await tokens.findByHash(revoked.tokenHash))?.spentAt).toBeNull();
    });

    it('answers null for an unknown hash', async () => {
      expect(await tokens.findByHash('f'.repeat(64))).toBeNull();
      expect(await tokens.spend(dataSource.manager, 'f'.repeat(64))).toBeNull();
    });
  });
});
