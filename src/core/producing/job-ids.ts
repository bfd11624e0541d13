import { randomBytes } from 'node:crypto';

/**
 * Ids of the jobs this engine enqueues without one of the caller's: `<tag>.<n>`, with a random
 * tag per engine and a counter. They identify a job across entities and pods (the tag makes
 * clashes between pods as unlikely as a 48-bit random collision), never look like a number
 * (BullMQ refuses numeric custom ids), and sort in enqueue order within one engine.
 */
export class JobIds {
  private readonly tag = randomBytes(6).toString('hex');
  private seq = 0;

  next(): string {
    this.seq += 1;
    return `${this.tag}.${this.seq.toString(36)}`;
  }
}
