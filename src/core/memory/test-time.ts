import { EngineStateError, InvalidOptionsError } from '../../errors';
import { ManualClock, type Clock } from '../clock';

/**
 * `InMemoryEngine.drain`: settles, then, while jobs are left that will run, moves a ManualClock
 * to the next timer (or, on another clock, waits a little) and settles again.
 */
export async function drainJobs(
  clock: Clock,
  settle: () => Promise<void>,
  pending: () => boolean,
): Promise<void> {
  for (;;) {
    await settle();
    if (!pending()) return;
    if (!(clock instanceof ManualClock)) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
      continue;
    }
    const next = clock.nextAt();
    if (next === undefined) return; // nothing scheduled: nothing more will run
    clock.advance(Math.max(0, next - clock.now()));
  }
}

/** `InMemoryEngine.advanceTime`: moves a ManualClock by `ms`, timer by timer, settling after each. */
export async function advanceTime(
  clock: Clock,
  ms: number,
  settle: () => Promise<void>,
): Promise<void> {
  if (!(clock instanceof ManualClock))
    throw new EngineStateError(
      'advanceTime() needs a ManualClock: new InMemoryEngine({ clock: new ManualClock() })',
    );
  if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0))
    throw new InvalidOptionsError('ms', 'a number of ms ≥ 0', ms);
  const until = clock.now() + ms;
  for (;;) {
    await settle();
    const next = clock.nextAt();
    if (next === undefined || next > until) break;
    clock.advance(Math.max(0, next - clock.now()));
  }
  clock.advance(until - clock.now());
  await settle();
}
