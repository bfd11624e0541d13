import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  // Start-up waits for Redis (`startTimeoutMs`, 10 s by default), then fails with
  // RedisConnectionError naming the host and the cause.
  const app = await NestFactory.create(AppModule);
  // On SIGTERM: each running job finishes, leases are released (entities with work go to the
  // other pods at once), connections close.
  app.enableShutdownHooks();
  await app.listen(3000);
}

void bootstrap();
