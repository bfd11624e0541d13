import * as fs from 'node:fs';
import { Session } from 'node:inspector';

/** Set by the pod runner (`--cpu-prof DIR`): where a pod writes its CPU profile. */
export const CPU_PROFILE_ENV = 'BENCH_CPU_PROFILE';

function post(session: Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

/**
 * A V8 CPU profile of the pod from `go` to `stop`, through the inspector: unlike
 * `node --cpu-prof`, it leaves out module loading and start-up, so it shows the run itself.
 * The file opens in Chrome DevTools and is summarized by cpu-profile.ts.
 */
export class CpuProfiler {
  private session?: Session;

  constructor(private readonly file: string) {}

  /** The profiler asked for by the environment, if any. */
  static fromEnv(): CpuProfiler | undefined {
    const file = process.env[CPU_PROFILE_ENV];
    return file ? new CpuProfiler(file) : undefined;
  }

  async start(): Promise<void> {
    this.session = new Session();
    this.session.connect();
    await post(this.session, 'Profiler.enable');
    await post(this.session, 'Profiler.start');
  }

  async stop(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    const { profile } = (await post(session, 'Profiler.stop')) as { profile: unknown };
    fs.writeFileSync(this.file, JSON.stringify(profile));
    session.disconnect();
  }
}
