import { BENCH_CLIENT_PREFIX, type RedisProbe } from './redis-probe';

/**
 * Samples CLIENT LIST and keeps the largest number of connections seen for one pod.
 * `named` counts the connections whose CLIENT SETNAME starts with `namePrefix`; `all` counts
 * every connection except the bench parent's own (`bench:*`), which on a Redis the run started
 * itself is everything the pods opened, named or not.
 */
export class ConnectionSampler {
  maxAll = 0;
  maxNamed = 0;
  samples = 0;
  readonly names = new Set<string>();
  private lastAt = 0;

  constructor(
    private readonly probe: RedisProbe,
    private readonly namePrefix: string,
  ) {}

  /** Samples unless the last sample is younger than `ms`. */
  async sampleEvery(ms: number): Promise<void> {
    if (Date.now() - this.lastAt >= ms) await this.sample();
  }

  async sample(): Promise<void> {
    this.lastAt = Date.now();
    const clients = (await this.probe.clients()).filter(
      (c) => !c.name.startsWith(BENCH_CLIENT_PREFIX),
    );
    const named = clients.filter((c) => c.name.startsWith(this.namePrefix));
    for (const c of clients) this.names.add(c.name || '(unnamed)');
    this.samples += 1;
    this.maxAll = Math.max(this.maxAll, clients.length);
    this.maxNamed = Math.max(this.maxNamed, named.length);
  }
}
