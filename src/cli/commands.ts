import type { AtomicEngine, EntityDetails, FailedEntity } from '../core';
import { expectPositionals, UsageError, type CliArgs } from './args';
import { duration, fields, table, time } from './table';

/** What a command prints: a JSON document (`--json`) or text. */
export interface CommandOutput {
  json: unknown;
  text: string;
}

type Command = (engine: AtomicEngine, args: CliArgs) => Promise<CommandOutput>;

export const COMMANDS: Record<string, Command> = {
  async entities(engine, args) {
    expectPositionals(args, []);
    const page = await engine.scanEntities({
      cursor: args.cursor,
      limit: args.limit ?? 100,
      type: args.type,
    });
    const rows = page.items.map((e) => [
      e.entityType,
      e.entityId,
      e.state,
      e.pod ?? '-',
      String(e.backlog),
      String(e.waiting),
      String(e.active),
      String(e.delayed),
      String(e.failed),
      duration(e.oldestWaitingMs),
    ]);
    const header = ['TYPE', 'ID', 'STATE', 'POD', 'BACKLOG', 'WAITING', 'ACTIVE', 'DELAYED'];
    let text = table([...header, 'FAILED', 'OLDEST WAIT'], rows);
    if (page.items.length === 0) text = 'No entities on this page.';
    text +=
      page.cursor === null
        ? `\n${page.items.length} entities (last page)`
        : `\n${page.items.length} entities; next page: --cursor ${page.cursor}`;
    return { json: page, text };
  },

  async inspect(engine, args) {
    const [type, id] = expectPositionals(args, ['TYPE', 'ID']);
    const entity = await engine.inspectEntity(type, id);
    engine.registerEntityType(type);
    const failed = await engine.listFailedJobs(type, id, { limit: args.limit ?? 20 });
    const failedRows = failed.items.map((j) => [
      j.id,
      j.name,
      String(j.attemptsMade),
      time(j.finishedOn),
      j.failedReason,
    ]);
    const text = [
      describe(entity),
      failed.total === 0
        ? 'No failed jobs.'
        : `Failed jobs (${failed.items.length} of ${failed.total}, oldest first):\n` +
          table(['JOB', 'NAME', 'ATTEMPTS', 'FAILED AT', 'REASON'], failedRows),
    ].join('\n\n');
    return { json: { ...entity, failedJobs: failed }, text };
  },

  async failed(engine, args) {
    const [only] = expectPositionals(args, [], ['TYPE']);
    const types = only !== undefined ? [only] : await engine.listFailedTypes();
    const out: { entityType: string; total: number; entities: FailedEntity[] }[] = [];
    for (const type of types) {
      engine.registerEntityType(type);
      const page = await engine.listFailedEntities(type, { limit: args.limit ?? 100 });
      out.push({ entityType: type, total: page.total, entities: page.items });
    }
    const rows = out.flatMap((t) =>
      t.entities.map((e) => [
        e.entityType,
        e.entityId,
        String(e.failedJobs),
        time(e.firstFailedAt),
      ]),
    );
    const summary = out.map((t) => `${t.entityType}: ${t.total}`).join(', ');
    const text =
      rows.length === 0
        ? 'No entities with failed jobs.'
        : `${table(['TYPE', 'ID', 'FAILED JOBS', 'FIRST FAILED AT'], rows)}\n` +
          `entities with failed jobs: ${summary}`;
    return { json: { types: out }, text };
  },

  async retry(engine, args) {
    const [type, id, ...jobIds] = args.positionals;
    if (type === undefined || id === undefined)
      throw new UsageError('"retry" needs TYPE ID, then JOBID... or --all');
    if (args.all === jobIds.length > 0)
      throw new UsageError('"retry" needs either job ids or --all (not both)');
    engine.registerEntityType(type);
    const result = await engine.retryFailedJobs(type, id, args.all ? 'all' : jobIds);
    const text = fields([
      ['retried', result.retried.join(' ') || '-'],
      ['not found', result.notFound.join(' ') || '-'],
      ['still failed', String(result.remaining)],
      ['paused', result.paused ? 'yes: the jobs run once it is resumed' : 'no'],
    ]);
    return { json: result, text };
  },

  pause: control('paused', (engine, type, id) => engine.pauseEntity(type, id)),
  resume: control('resumed', (engine, type, id) => engine.resumeEntity(type, id)),
  drain: control('drained', (engine, type, id, args) =>
    engine.drainEntity(type, id, { delayed: args.delayed }),
  ),

  async pods(engine, args) {
    expectPositionals(args, []);
    const pods = (await engine.listPods()).filter((p) => p.podId !== engine.podId);
    const rows = pods.map((p) => [
      p.podId,
      p.processing ? 'yes' : 'no',
      String(p.held),
      duration(p.lastBeatMsAgo),
    ]);
    const text =
      pods.length === 0 ? 'No pods.' : table(['POD', 'PROCESSING', 'HELD', 'LAST BEAT'], rows);
    return { json: { items: pods }, text };
  },
};

/** pause / resume / drain: act, then show the entity as it is now. */
function control(
  done: string,
  act: (engine: AtomicEngine, type: string, id: string, args: CliArgs) => Promise<void>,
): Command {
  return async (engine, args) => {
    const [type, id] = expectPositionals(args, ['TYPE', 'ID']);
    engine.registerEntityType(type);
    await act(engine, type, id, args);
    const entity = await engine.inspectEntity(type, id);
    return {
      json: { action: done, entity },
      text: `${type} ${id} ${done}.\n\n${describe(entity)}`,
    };
  };
}

function describe(e: EntityDetails): string {
  return fields([
    ['entity', `${e.entityType} ${e.entityId}`],
    ['queue', e.queueName],
    ['state', e.state],
    [
      'lease',
      e.lease
        ? `held by ${e.lease.pod}, ${duration(e.lease.ttlMs)} left${e.lease.idle ? ' (idle)' : ''}`
        : 'none',
    ],
    ['fencing token', e.fencingToken === null ? '-' : String(e.fencingToken)],
    ['paused', e.paused ? 'yes' : 'no'],
    ['backlog', `${e.backlog} (waiting ${e.waiting}, active ${e.active}, delayed ${e.delayed})`],
    ['oldest wait', duration(e.oldestWaitingMs)],
    ['failed', String(e.failed)],
    ['completed', String(e.completed)],
  ]);
}
