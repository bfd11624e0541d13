// `redis` takes a URL, connection options or an ioredis client: the type still rejects anything
// else (it did not turn into `any` on the way through the declarations).
import { AtomicEngine } from 'atomic-queues';

// @expect-error TS2322
export const engine = new AtomicEngine({ redis: 6379 });
