// The few members of bull-board (@bull-board/api and @bull-board/express, v6) that the README's
// bull-board snippet uses, declared so that the snippet type-checks without bull-board
// installed: atomic-queues does not depend on it.
declare module '@bull-board/api' {
  export function createBullBoard(options: { queues: unknown[]; serverAdapter: unknown }): {
    replaceQueues(queues: unknown[]): void;
  };
}
declare module '@bull-board/api/bullMQAdapter' {
  export class BullMQAdapter {
    constructor(queue: import('bullmq').Queue, options?: { readOnlyMode?: boolean });
  }
}
declare module '@bull-board/express' {
  export class ExpressAdapter {
    setBasePath(path: string): this;
    getRouter(): unknown;
  }
}
