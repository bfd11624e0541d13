/** Settings of the `bench seed` Nest apps (pods and driver), from the pod config. */
export interface StockAppOptions {
  redisUrl: string;
  keyPrefix: string;
  podId: string;
  /** Simulated I/O between the stock read and its write, ms (0: none besides the round trips). */
  ioMs: number;
  idleTimeoutSeconds: number;
  heartbeatTTL: number;
  enqueueTimeoutMs: number;
}

export const STOCK_APP_OPTIONS = Symbol('STOCK_APP_OPTIONS');

/** Redis key of a product's stock (under the run's prefix: removed with its other keys). */
export function stockKey(prefix: string, productId: string): string {
  return `${prefix}:stock:${productId}`;
}
