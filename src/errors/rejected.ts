/**
 * A rejected promise of what a plain (not async) function caught: such functions keep the
 * promise-returning contract (a bad call rejects, never throws) without an async frame per call.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- the throw is the point
export async function rejected(error: unknown): Promise<never> {
  throw error;
}
