import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityRows, RowMapper } from '../database/entity-rows';
import { User } from './user.entity';

export interface NewUser {
  email: string;
  passwordHash: string;
  displayName: string;
}

/** Accounts. Users belong to no workspace: workspace scoping starts at workspace_members. */
@Injectable()
export class UsersRepository {
  private readonly toUser: RowMapper<User>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.toUser = entityRows(dataSource, User);
  }

  /** The new user, or null when the email is already registered. */
  async insertIfAbsent(manager: EntityManager, user: NewUser): Promise<User | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      `INSERT INTO users (email, password_hash, display_name) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING *`,
      [user.email, user.passwordHash, user.displayName],
    );
    return rows.length ? this.toUser(rows[0]) : null;
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<User | null> {
    return manager.findOneBy(User, { id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.dataSource.manager.findOneBy(User, { email });
  }
}
