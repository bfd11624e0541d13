/**
 * The in-memory engine's work in flight: handler calls and the steps around them. A job that
 * waits out a delay or a retry's backoff is not in flight (a timer of the engine's clock brings
 * it back). Tells waiters when nothing is.
 */
export class Activity {
  private busy = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private checking = false;

  begin(): void {
    this.busy += 1;
  }

  end(): void {
    this.busy -= 1;
    if (this.busy === 0) this.check();
  }

  get idle(): boolean {
    return this.busy === 0;
  }

  /**
   * Resolves once nothing is in flight, checked after the callbacks already queued have run
   * (a resolved handler's continuation, the callers it settled).
   */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.check();
    });
  }

  private check(): void {
    if (this.checking || this.idleWaiters.length === 0) return;
    this.checking = true;
    setImmediate(() => {
      this.checking = false;
      if (this.busy !== 0) return; // end() checks again
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }
}
