import { Registry } from 'prom-client';
import { AtomicEngine } from 'atomic-queues';

export const registry = new Registry();
export const engine = new AtomicEngine({
  redis: 'redis://127.0.0.1:6379',
  metrics: { registry }, // `metrics: {}`: prom-client's default registry
});
// Serve `await registry.metrics()` (content type `registry.contentType`) on GET /metrics.
