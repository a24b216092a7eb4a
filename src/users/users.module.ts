import { Module } from '@nestjs/common';
import { UsersRepository } from './users.repository';

/** The users table, for sign-up and sign-in. */
@Module({ providers: [UsersRepository], exports: [UsersRepository] })
export class UsersModule {}
