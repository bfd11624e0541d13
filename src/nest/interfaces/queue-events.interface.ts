/** An entity was claimed by this pod (`entity:claimed`). */
export interface EntityClaimedEvent {
  entityType: string;
  entityId: string;
  fencingToken: number;
}

/** This pod let go of an entity (`entity:released`) or lost its lease (`lease:lost`). */
export interface EntityReleasedEvent extends EntityClaimedEvent {
  reason: 'released' | 'stopped' | 'lost' | 'error';
}

/** A job of this pod finished (`job:completed` / `job:failed`). */
export interface JobFinishedEvent extends EntityClaimedEvent {
  jobId: string;
  name: string;
}

export interface JobCompletedEvent extends JobFinishedEvent {
  result: unknown;
}

export interface JobFailedEvent extends JobFinishedEvent {
  error: unknown;
}

/** Every event of this pod and its listener's arguments. */
export interface AtomicQueuesEvents {
  'entity:claimed': [EntityClaimedEvent];
  'entity:released': [EntityReleasedEvent];
  'lease:lost': [EntityReleasedEvent];
  'job:completed': [JobCompletedEvent];
  'job:failed': [JobFailedEvent];
  /** A background loop hit an error (already logged); `context` says what it was doing. */
  error: [error: Error, context: string];
}
