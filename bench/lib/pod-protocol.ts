/**
 * Messages between the bench parent and its pod processes, over the `fork` IPC channel.
 *
 * parent → pod: `go` (start processing now), `report` (send your counters now), `stop`.
 * pod → parent: `ready` once loaded and configured, `started` once its `start()` resolved after
 * `go`, `progress` every PROGRESS_INTERVAL_MS after `go`, `done` as soon as `target` jobs
 * completed, `report` on request, `error` for every error the engine or worker reports, `stopped`
 * just before exiting.
 */

export const PROGRESS_INTERVAL_MS = 50;

/** A pod's counters since it received `go`. Times are epoch ms (see `epochNow`). */
export interface PodProgress {
  completed: number;
  startAt: number;
  /** Time of the first / last completion; 0 before the first. */
  firstAt: number;
  lastAt: number;
  /** Process CPU time since `go`, ms, as of the last `done`, `report` or `stopped` (progress skips it). */
  cpuUserMs: number;
  cpuSystemMs: number;
  rssMb: number;
  maxRssMb: number;
  /** Engine pods: entities this pod holds a lease on now. */
  activeEntities?: number;
  errors: number;
  /** Pod-specific results (`PodDriver.details`), in `report` and `stopped` messages only. */
  details?: unknown;
}

export type ParentMessage = { type: 'go'; target?: number } | { type: 'report' } | { type: 'stop' };

export type PodMessage =
  | { type: 'ready'; pid: number }
  | { type: 'started' }
  | { type: 'progress'; progress: PodProgress }
  | { type: 'done'; progress: PodProgress }
  | { type: 'report'; progress: PodProgress }
  | { type: 'error'; message: string; context: string }
  | { type: 'stopped'; progress: PodProgress };
