// Only the entry points in the package's `exports` map can be imported: its internals can't.

// @expect-error TS2307
import { Pod } from 'atomic-queues/dist/core/pod';

export const pod: unknown = Pod;
