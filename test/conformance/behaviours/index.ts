import type { Behaviour } from '../backend';
import { badInput } from './bad-input';
import { delays } from './delays';
import { enqueueAndWait } from './enqueue-and-wait';
import { events } from './events';
import { failedJobs } from './failed-jobs';
import { fencing } from './fencing';
import { idempotentJobs } from './idempotent-jobs';
import { leaseLoss } from './lease-loss';
import { onFailure } from './on-failure';
import { order } from './order';
import { pauseResume } from './pause-resume';
import { retries } from './retries';

/** Every behaviour of the suite, by name: each runs on both backends. */
export const BEHAVIOURS: readonly [string, Behaviour][] = [
  ['per-entity order and parallel entities', order],
  ['retries keep order', retries],
  ['onFailure continue and pause', onFailure],
  ['fencing tokens', fencing],
  ['enqueueAndWait results, errors and timeouts', enqueueAndWait],
  ['idempotent job ids and waitForJob', idempotentJobs],
  ['delays and drainEntity', delays],
  ['pause and resume', pauseResume],
  ['events and introspection', events],
  ['lease loss', leaseLoss],
  ['bad input', badInput],
  ['failed-job admin calls', failedJobs],
];
