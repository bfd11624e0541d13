import { runScript } from '../redis/scripts';
import type { AtomicEngine } from './engine';

const PAGE = 256;

/**
 * The safety sweep (the seed's cron manager). The index holds every entity that may have work,
 * scored with the time by which its lease should have been renewed. Entries whose time has
 * passed are inspected: a live lease pushes the entry forward; no lease and work means the
 * owner died (or a hand-over was lost), so the entity is claimed here or offered to other pods;
 * no lease and no work removes the entry, unless it changed meanwhile.
 * Cost when nothing is due: one ZRANGEBYSCORE per interval.
 */
export class Sweeper {
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly engine: AtomicEngine,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sweep()
        .catch((err: unknown) => this.engine.reportError(err, 'safety sweep'))
        .finally(() => (this.busy = false));
    }, this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    const engine = this.engine;
    const command = engine.command;
    const indexKey = engine.keys.indexKey();
    const now = Date.now();
    const due = await command.zrangebyscore(indexKey, '-inf', now, 'WITHSCORES', 'LIMIT', 0, PAGE);
    const checks: Promise<void>[] = [];
    for (let i = 0; i < due.length; i += 2) checks.push(this.check(due[i], due[i + 1], now));
    await Promise.all(checks);
  }

  /** Acts on one due index entry (`score` as read, for the conditional removal). */
  private async check(ref: string, score: string, now: number): Promise<void> {
    const engine = this.engine;
    const command = engine.command;
    const indexKey = engine.keys.indexKey();
    if (engine.runnerFor(ref)) return; // ours: the heartbeat keeps it fresh
    const entity = engine.entityFromRef(ref);
    if (!entity) return;
    const [pttl, work, orphan] = (await runScript(command, 'inspect', entity.stateKeys(), [
      entity.jobKeyPrefix,
      entity.config.maxWorkersPerEntity,
    ])) as number[];
    if (pttl > 0 && orphan !== 1) {
      // Held. If by this pod (claimed while we looked), its heartbeat owns the entry's score.
      if (engine.runnerFor(ref)) return;
      await command.zadd(indexKey, 'XX', now + pttl, ref);
    } else if (work === 1) {
      // No live holder (or a dead one's job is stranded beside live ones): take it over.
      await command.zadd(indexKey, 'XX', now + engine.leaseTtlMs, ref);
      if (engine.canClaimHere()) await engine.claimIfWork(entity);
      else await command.zadd(engine.keys.spawnKey(), 'NX', now, ref);
    } else {
      await runScript(command, 'unindex', [indexKey], [ref, score]);
    }
  }
}
