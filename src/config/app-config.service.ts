import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EnvironmentVariables, fanoutClusterNodes } from './env.validation';

/** Typed access to the validated environment. */
@Injectable()
export class AppConfigService {
  constructor(private readonly config: ConfigService<EnvironmentVariables, true>) {}

  get<K extends keyof EnvironmentVariables>(key: K): EnvironmentVariables[K] {
    return this.config.get(key, { infer: true });
  }

  get corsOrigins(): string[] | '*' {
    const raw = this.get('CORS_ORIGINS').trim();
    if (raw === '*') return '*';
    return raw.split(',').map((o) => o.trim()).filter(Boolean);
  }

  /** The fan-out Redis Cluster's seed nodes with SOCKET_ADAPTER=sharded; null in classic mode. */
  get fanoutClusterNodes(): { host: string; port: number }[] | null {
    return fanoutClusterNodes({ SOCKET_ADAPTER: this.get('SOCKET_ADAPTER'), REDIS_FANOUT_CLUSTER_NODES: this.get('REDIS_FANOUT_CLUSTER_NODES') });
  }

  get limits() {
    return {
      messageMaxLength: this.get('MESSAGE_MAX_LENGTH'),
      sendBurst: this.get('SEND_RATE_BURST'),
      sendPerSecond: this.get('SEND_RATE_PER_SECOND'),
      searchBurst: this.get('SEARCH_RATE_BURST'),
      searchPerSecond: this.get('SEARCH_RATE_PER_SECOND'),
      typingIntervalMs: this.get('TYPING_INTERVAL_MS'),
      syncPageLimit: this.get('SYNC_PAGE_LIMIT'),
      socketMaxFrameBytes: this.get('SOCKET_MAX_FRAME_BYTES'),
    };
  }
}
