/**
 * One banking pod: the Nest app over HTTP on a loopback port. Run by the demo launcher
 * (`fork`), configured through the environment (see banking-options.ts). Tells its parent its
 * port over IPC; stops gracefully on SIGTERM, and on its own if the parent goes away.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
// In an application: `from 'atomic-queues'`.
import { JobFailedError, JobTimeoutError } from '../../src';
import { BankingModule } from './banking.module';
import { bankingOptionsFromEnv } from './banking-options';

export interface PodReadyMessage {
  type: 'ready';
  pod: string;
  pid: number;
  port: number;
}

async function main(): Promise<void> {
  const options = bankingOptionsFromEnv();
  const app = await NestFactory.create(BankingModule.forRoot(options), {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  const port = Number(new URL(await app.getUrl()).port);
  const ready: PodReadyMessage = {
    type: 'ready',
    pod: options.podName,
    pid: process.pid,
    port,
  };
  if (process.send) process.send(ready);
  else console.log(`${options.podName} listening on http://127.0.0.1:${port}`);
  // The launcher died without stopping us: stop rather than linger as an orphan.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

// WORKAROUND (library bug, reported): AtomicEngine.enqueueAndWait creates the promise of the
// job's outcome, then awaits the enqueue before it awaits that promise. When the job fails on
// another pod and its reply arrives before the enqueue's own reply, the outcome promise rejects
// with no handler attached yet, and Node (unhandled rejections → throw) kills the pod, although
// the caller receives the same rejection an instant later. Ignore exactly those; anything else
// still ends the process, as Node would.
process.on('unhandledRejection', (reason: unknown) => {
  if (reason instanceof JobFailedError || reason instanceof JobTimeoutError) return;
  console.error('Unhandled rejection:', reason);
  process.exit(1);
});

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
