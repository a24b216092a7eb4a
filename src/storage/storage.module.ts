import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { BlobStorage } from './blob-storage';
import { LocalBlobStorage } from './local-blob-storage';
import { S3BlobStorage } from './s3-blob-storage';

/** The driver STORAGE_DRIVER names: `local` (VOICE_STORAGE_DIR) or `s3` (S3_* settings). */
export function createBlobStorage(config: AppConfigService): BlobStorage {
  if (config.get('STORAGE_DRIVER') === 's3') {
    return new S3BlobStorage({
      bucket: config.get('S3_BUCKET')!,
      region: config.get('S3_REGION'),
      endpoint: config.get('S3_ENDPOINT'),
      accessKeyId: config.get('S3_ACCESS_KEY_ID'),
      secretAccessKey: config.get('S3_SECRET_ACCESS_KEY'),
      forcePathStyle: config.get('S3_FORCE_PATH_STYLE'),
    });
  }
  return new LocalBlobStorage(config.get('VOICE_STORAGE_DIR'));
}

@Injectable()
class StorageLifecycle implements OnApplicationShutdown {
  constructor(@Inject(BlobStorage) private readonly storage: BlobStorage) {}

  onApplicationShutdown(): void {
    if (this.storage instanceof S3BlobStorage) this.storage.destroy();
  }
}

/** File storage for the API and the worker (voice audio). */
@Module({
  providers: [
    { provide: BlobStorage, inject: [AppConfigService], useFactory: createBlobStorage },
    StorageLifecycle,
  ],
  exports: [BlobStorage],
})
export class StorageModule {}
