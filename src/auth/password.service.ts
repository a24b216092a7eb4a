import { Injectable, OnModuleInit } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';

/** OWASP's Argon2id baseline: m=19 MiB, t=2, p=1. */
const ARGON2_OPTIONS = { algorithm: 2 /* Argon2id; the enum is a const enum, not importable under isolatedModules */ as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

@Injectable()
export class PasswordService implements OnModuleInit {
  /** Verified against when the email is unknown, so both failures take the same time. */
  private dummyHash = '';

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash('pigeon-timing-equalizer', ARGON2_OPTIONS);
  }

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    try {
      const ok = await verify(passwordHash ?? this.dummyHash, password);
      return ok && passwordHash !== undefined;
    } catch {
      return false;
    }
  }
}
