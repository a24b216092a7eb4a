import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TenantInterceptor } from './tenant.interceptor';

/** The API's tenant context for HTTP; sockets get theirs in RedisIoAdapter, the worker at boot. */
@Module({ providers: [{ provide: APP_INTERCEPTOR, useClass: TenantInterceptor }] })
export class TenancyModule {}
