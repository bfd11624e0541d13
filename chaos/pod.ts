/**
 * A chaos pod: `node build/chaos/pod.js '<ChaosPodConfig JSON>'`, forked with an IPC channel.
 *
 * Runs an AtomicEngine whose handler is a stock deduction against the oracle's fenced store
 * (see oracle.ts): begin (register the token, read the stock), wait `ms`, commit (write the new
 * stock, fenced, with the business id, in one transaction). Sends `{type: 'ready'}` once started,
 * stops gracefully on SIGTERM, and never outlives its parent.
 */
import type { Job } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { AtomicEngine, type JobContext } from '../src';
import { measureClockSkewMs } from '../support/faketime';
import { StockStore, openOracle } from './oracle';
import type { ChaosPodConfig, OrderJob, PodMessage } from './protocol';
import { sleep } from '../support/async';
import { errorText, now } from './util';

const config = JSON.parse(process.argv[2] ?? '{}') as ChaosPodConfig;
const db = openOracle(config.db);
const store = new StockStore(db, config.podId, config.fenced);

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} [${config.podId} ${process.pid}] ${message}\n`);
}

function busyLoop(ms: number): void {
  const until = Date.now() + ms;
  let spins = 0;
  while (Date.now() < until) spins += 1;
  if (spins < 0) log('unreachable');
}

async function handle(job: Job, ctx: JobContext): Promise<{ outcome: string }> {
  const d = job.data as OrderJob;
  const begun = await store.begin({
    entity: ctx.entityId,
    type: ctx.entityType,
    jobId: String(job.id),
    businessId: d.b,
    seq: d.seq,
    fence: ctx.fencingToken,
    attempt: ctx.attempt,
  });
  if (begun.state !== 'go') return { outcome: begun.state };
  if (d.poison === 'exit') {
    await store.fault('exit', now(), null, `${ctx.entityId} ${d.b}`);
    log(`poison job ${d.b}: exiting`);
    process.exit(1);
  }
  if (d.poison === 'throw' || ctx.attempt <= (d.failTimes ?? 0)) {
    const message = d.poison
      ? `poison job ${d.b}`
      : `planned failure ${ctx.attempt}/${d.failTimes}`;
    await store.threw(begun.execId, message);
    throw new Error(message);
  }
  if (d.block && begun.prior === 0) {
    const at = now();
    await store.fault('block', at, at + d.block, ctx.entityId);
    busyLoop(d.block);
  }
  if (d.ms > 0) await sleep(d.ms);
  const outcome = await store.commit({
    execId: begun.execId,
    entity: ctx.entityId,
    jobId: String(job.id),
    businessId: d.b,
    seq: d.seq,
    fence: ctx.fencingToken,
    qty: d.qty,
    stockRead: begun.stock,
  });
  return { outcome };
}

/** The engine's Cluster client on a Cluster (the engine does not close a client it is given). */
const cluster = config.clusterNodes
  ? new Cluster(config.clusterNodes, { redisOptions: { maxRetriesPerRequest: null } })
  : undefined;

async function main(): Promise<void> {
  const engine = new AtomicEngine({
    redis: cluster ?? config.redisUrl,
    keyPrefix: config.prefix,
    podId: config.podId,
    cronInterval: config.cronInterval,
    enableCronManager: config.sweep,
    enqueueTimeoutMs: config.enqueueTimeoutMs,
    workerDefaults: { heartbeatTTL: config.heartbeatTTL },
    entities: config.entities,
  });
  for (const type of Object.keys(config.entities)) engine.registerHandler(type, handle);
  let errors = 0;
  engine.on('error', (err: Error, context: string) => {
    errors += 1;
    if (errors <= 50) log(`engine error (${context}): ${err.message}`);
  });
  engine.on('lease:lost', (info: { entityId: string; fencingToken: number }) =>
    log(`lease lost: ${info.entityId} token ${info.fencingToken}`),
  );
  await engine.start();

  let stopping = false;
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    const hardStop = setTimeout(() => {
      log('graceful stop took too long, exiting');
      process.exit(2);
    }, 60_000);
    engine.stop().then(
      () => {
        clearTimeout(hardStop);
        log(`stopped; ${errors} engine errors`);
        cluster?.disconnect();
        db.close();
        process.exit(0);
      },
      (err: unknown) => {
        log(`stop failed: ${errorText(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('disconnect', () => shutdown('parent went away'));
  setTimeout(() => {
    log('max lifetime reached, exiting');
    process.exit(3);
  }, config.maxLifetimeMs).unref();

  const probe = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const clockSkewMs = await measureClockSkewMs(probe).finally(() => probe.disconnect());
  const ready: PodMessage = { type: 'ready', podId: config.podId, pid: process.pid, clockSkewMs };
  process.send?.(ready);
  log(`ready; clock ${clockSkewMs} ms off Redis's`);
}

main().catch((err: unknown) => {
  log(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
