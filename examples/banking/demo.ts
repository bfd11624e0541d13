/**
 * `npm run demo [-- --without-library] [--ops N] [--pods N] [--concurrency N] [--seed N]
 *   [--store-latency-ms N] [--keep-store]`
 *
 * The banking example as 3 pod processes against its own Redis (or REDIS_URL), a few thousand
 * concurrent withdrawals, deposits and transfers over HTTP, and a table of balances. The last line
 * is `money conserved: yes` or `money conserved: no`; the exit code is 0 only when money is
 * conserved, no balance ever went negative and every request was answered.
 */
import { parseArgs } from 'node:util';
import { renderReport } from './demo/report';
import { runDemo } from './demo/run-demo';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'without-library': { type: 'boolean', default: false },
      ops: { type: 'string', default: '2000' },
      pods: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '48' },
      seed: { type: 'string', default: '1' },
      'store-latency-ms': { type: 'string', default: '2' },
      'keep-store': { type: 'boolean', default: false },
    },
  });
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min)
      throw new Error(
        `Expected --${name} to be an integer ≥ ${min}, got \`${String(values[name])}\``,
      );
    return n;
  };
  const withoutLibrary = values['without-library'];
  const options = {
    operations: int('ops', 1),
    pods: int('pods', 1),
    concurrency: int('concurrency', 1),
    seed: int('seed', 0),
    storeLatencyMs: int('store-latency-ms', 0),
    withoutLibrary,
    keepStore: values['keep-store'],
  };
  console.log(
    `atomic-queues banking demo${withoutLibrary ? ' WITHOUT the library' : ''}: ` +
      `${options.pods} pods, ${options.operations} operations, ${options.concurrency} in flight, ` +
      `store latency ${options.storeLatencyMs} ms`,
  );
  const report = await runDemo({ ...options, log: (line) => console.error(`demo: ${line}`) });
  console.log('');
  console.log(renderReport(report));
  return report.ok ? 0 : 1;
}

// Ctrl-C / kill: exit through process.exit so the 'exit' hooks of PodFleet and local-redis kill
// the pods and redis-server by PID (a signal's default action would skip them).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`demo: ${signal}, stopping`);
    process.exit(130);
  });
}

// process.exit: idle keep-alive sockets must not hold the demo open once it has its verdict.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    console.log('money conserved: no');
    process.exit(1);
  },
);
