/** What the health indicator needs of `@nestjs/terminus`, whichever major version is installed. */
export interface TerminusModule {
  /** Terminus ≥ 11: an indicator returns `down` results. */
  HealthIndicatorService?: unknown;
  /** Terminus ≤ 10 reads a `down` only from this error, thrown. */
  HealthCheckError?: new (message: string, causes: unknown) => Error;
}

let loaded: TerminusModule | null | undefined;

/** `@nestjs/terminus` (an optional peer), or null when the application does not have it. */
function loadTerminus(): TerminusModule | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on use
      loaded = require('@nestjs/terminus') as TerminusModule;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Hands a `down` result to Terminus the way its version reads it: returned, from Terminus 11 on
 * (`HealthIndicatorService`'s style; Terminus 12 no longer accepts the error); thrown as
 * Terminus's `HealthCheckError` before, the only way Terminus 10 sees a `down`.
 */
export function downResult<R>(
  result: R,
  message: string,
  terminus: TerminusModule | null = loadTerminus(),
): R {
  if (
    terminus &&
    terminus.HealthIndicatorService === undefined &&
    typeof terminus.HealthCheckError === 'function'
  )
    throw new terminus.HealthCheckError(message, result);
  return result;
}
