import { aqClient } from './aq-client';
import { bullmqClient } from './bullmq-client';
import { groupmqClient } from './groupmq-client';
import type { ClientConfig, OpClient } from './op-client';
import { redlockClient } from './redlock-client';
import { seedClient } from './seed-client';

/** The client of `config.approach`. */
export function createClient(config: ClientConfig, podId: string): Promise<OpClient> {
  switch (config.approach) {
    case 'atomic-queues':
      return aqClient(config, podId);
    case 'seed-baseline':
      return seedClient(config, podId);
    case 'redlock':
    case 'redlock-tuned':
      return redlockClient(config, podId);
    case 'groupmq':
      return groupmqClient(config, podId);
    case 'raw-bullmq':
      return bullmqClient(config, podId);
  }
}
