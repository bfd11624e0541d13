/**
 * The conformance suite's view of an engine: one set of behavioural tests (./behaviours) runs
 * against AtomicEngine on a real Redis (./redis-backend.ts) and against the in-memory engine of
 * `atomic-queues/testing` (./memory-backend.ts), so the two can't drift apart. The tests only
 * use the engine's public API (QueueEngine) and this harness, whose few verbs each backend
 * implements with its own notion of time: real time on Redis, a ManualClock in memory.
 */
import type { TestContext } from 'node:test';
import type {
  AtomicQueuesEvents,
  AtomicQueuesOptions,
  EntityJobHandler,
  EntityTypeOptions,
  QueueEngine,
} from '../../src';
import { gate, type Gate } from '../../support/async';

export { gate, type Gate };

/** The entity type every behaviour uses unless it declares its own. */
export const TYPE = 'account';

export interface Setup {
  /** The handler of every declared type. */
  handler: EntityJobHandler;
  /** Entity types and their options. @defaultValue `{ account: {} }` */
  entities?: Record<string, EntityTypeOptions>;
  /** Other engine options (not redis, keyPrefix, podId or logger). */
  options?: Omit<AtomicQueuesOptions, 'redis' | 'keyPrefix' | 'entities' | 'podId' | 'logger'>;
}

/** One event of the harness's engines, in the order they were emitted. */
export interface Recorded<E extends keyof AtomicQueuesEvents = keyof AtomicQueuesEvents> {
  readonly event: E;
  readonly payload: AtomicQueuesEvents[E][0];
}

export interface Harness {
  /** The engine under test, started, its handler registered. */
  readonly engine: QueueEngine;
  /** Every event of the engines of this harness (a takeover's second engine included). */
  readonly events: Recorded[];
  /** The payloads of one kind of event, in order. */
  eventsOf<E extends keyof AtomicQueuesEvents>(event: E): AtomicQueuesEvents[E][0][];
  /**
   * Resolves once `condition` holds; fails naming `what` when it does not in time. Redis: polls
   * it with a deadline. Memory: lets the engine go idle and, while the condition does not hold,
   * moves the clock to the next timer (a delay, a backoff, an idle release, a timeout).
   */
  until(condition: () => boolean | Promise<boolean>, what: string): Promise<void>;
  /** Lets `ms` of the engine's time pass now. Redis: nothing to do (time passes by itself). */
  advance(ms: number): void;
  /**
   * Lets the engine do what it would do now without anything new happening: for checks that
   * something does not happen. Redis: a window of real time. Memory: until it is idle.
   */
  quiet(): Promise<void>;
  /** The engine's time, in ms. */
  now(): number;
  /**
   * The entity's lease is lost while its job runs, as when another pod takes it over: Redis, the
   * lease expires and a second engine claims the entity; memory, `simulateLeaseLoss`.
   */
  loseLease(type: string, entityId: string): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /**
   * A started engine for the test `t`; stopped and cleaned up when the test ends, which fails if
   * the engine reported an error (`error` event).
   */
  open(t: TestContext, setup: Setup): Promise<Harness>;
}

/** A behaviour: its tests, registered (`it`) against one backend. */
export type Behaviour = (backend: Backend) => void;

/** Records the events of `engine` into `events`. */
export function recordEvents(engine: QueueEngine, events: Recorded[]): void {
  const names: (keyof AtomicQueuesEvents)[] = [
    'entity:claimed',
    'entity:released',
    'lease:lost',
    'job:completed',
    'job:failed',
    'job:retrying',
  ];
  for (const event of names)
    engine.on(event, (payload: unknown) => events.push({ event, payload } as Recorded));
}

/** `eventsOf` over a list of recorded events. */
export function eventsOf<E extends keyof AtomicQueuesEvents>(
  events: readonly Recorded[],
  event: E,
): AtomicQueuesEvents[E][0][] {
  return events.filter((e) => e.event === event).map((e) => e.payload as AtomicQueuesEvents[E][0]);
}

/**
 * Gates by name, made on first use by either side (the handler waiting, the test opening). Made
 * with the test's context before `backend.open`, they all open when the test ends, so that a
 * failed assertion does not leave a handler waiting and the engine's stop with it.
 */
export class Gates {
  private readonly gates = new Map<string, Gate>();

  constructor(t?: TestContext) {
    t?.after(() => {
      for (const g of this.gates.values()) g.open();
    });
  }

  get(name: string): Gate {
    let g = this.gates.get(name);
    if (!g) {
      g = gate();
      this.gates.set(name, g);
    }
    return g;
  }

  wait(name: string): Promise<void> {
    return this.get(name).wait;
  }

  open(name: string): void {
    this.get(name).open();
  }
}

/** A promise's outcome once it has settled, for `until` conditions and assertions. */
export function track<T>(promise: Promise<T>): {
  readonly settled: boolean;
  readonly value?: T;
  readonly error?: unknown;
} {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/**
 * What `promise` settles with, letting the engine's time pass as it needs (on the in-memory
 * engine, `await promise` alone would wait for a clock that nobody moves).
 */
export async function settled<T>(h: Harness, promise: Promise<T>, what: string): Promise<T> {
  const state = track(promise);
  await h.until(() => state.settled, what);
  return promise;
}
