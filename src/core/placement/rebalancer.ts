import type { Clock } from '../clock';
import type { ResolvedRebalance } from '../options/resolved-options';
import type { EntityRunner } from '../running/entity-runner';
import type { RunnerRegistry } from '../running/runner-registry';
import type { PodRegistry } from './pod-registry';

/** What rebalancing needs from the pod. */
export interface RebalancerContext {
  readonly clock: Clock;
  readonly runners: RunnerRegistry;
  readonly registry: PodRegistry;
  readonly settings: ResolvedRebalance;
  /** Free entities this pod may still claim (0 at its cap, or while giving). */
  claimBudget(): number;
  /** How long the set of pods must stay the same before entities move, ms (a lease TTL). */
  readonly settleMs: number;
}

/**
 * Hands entities over to pods below their fair share (README G5): after each heartbeat, a pod
 * holding more than `even × (1 + tolerance)` (or above even while a pod is below
 * `even × (1 − tolerance)`) asks a few runners (`maxMovesPerRound`, see rebalanceMoves in
 * fair-share.ts) to hand over; those still finishing a job count as the receivers' already. Each
 * finishes the job it runs (the rest of its batch goes back unrun, first in line), takes no
 * other, and gives its lease back with relinquish-7.lua, which spends its fencing token; an
 * entity with work is offered in the spawn set, which only pods below their share watch, and its
 * next holder claims a larger token. Nothing moves while the set of pods changed within
 * `settleMs`, and for `settleMs` after a move this pod leaves free entities to the others, so
 * that what it gave goes to them (what they leave waiting past a grace it still takes: see
 * Dispatcher). Only a pod that may claim no more (at its fair-share cap, or giving) gives: one
 * below it is receiving, and would send entities back.
 */
export class Rebalancer {
  private podsSeen = '';
  private stableSince: number;
  private lastMoveAt = -Infinity;

  constructor(private readonly ctx: RebalancerContext) {
    this.stableSince = ctx.clock.now();
  }

  /** True for `settleMs` after this pod handed an entity over: it leaves free ones to others. */
  giving(): boolean {
    return this.ctx.clock.now() - this.lastMoveAt < this.ctx.settleMs;
  }

  /** One round, after a heartbeat refreshed the registry: hands over what is due; how many. */
  round(): number {
    const { clock, registry, runners, settings } = this.ctx;
    const now = clock.now();
    const pods = registry.processingPods().sort().join(' ');
    if (pods !== this.podsSeen) {
      this.podsSeen = pods;
      this.stableSince = now;
    }
    if (!settings.enabled || now - this.stableSince < this.ctx.settleMs) return 0;
    if (registry.warmingUp() || registry.recentlyStale() > 0) return 0;
    // A pod that may still claim is a receiver (it watches the spawn set): giving too would
    // send entities back and forth on views a beat old. Givers are at their cap, or giving.
    if (this.ctx.claimBudget() > 0) return 0;
    const due = registry.rebalanceMoves(
      runners.staying(),
      runners.handingOver(),
      settings.tolerance,
      settings.maxMovesPerRound,
    );
    if (due <= 0) return 0;
    let moved = 0;
    for (const runner of pickRunners(runners.all())) {
      if (moved >= due) break;
      if (runner.handOver()) moved += 1;
    }
    if (moved > 0) this.lastMoveAt = now;
    return moved;
  }
}

/**
 * Runners to hand over first: those with a backlog (running), which the spawn set offers to a
 * pod below its share at once; then idle ones, which go to whoever gets their next job.
 */
function pickRunners(all: EntityRunner[]): EntityRunner[] {
  const running = all.filter((r) => r.state === 'running' && !r.draining);
  const idle = all.filter((r) => r.state === 'idle' && !r.draining);
  return [...running, ...idle];
}
