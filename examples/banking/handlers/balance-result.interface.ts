/** What the withdraw, deposit and transfer handlers return (and HTTP responds with). */
export interface BalanceResult {
  accountId: string;
  /** Balance right after this operation. */
  balance: number;
  /** False when the operation had already been applied (a retry): nothing changed. */
  applied: boolean;
}

/** What the transfer handler returns. */
export interface TransferResult extends BalanceResult {
  transferId: string;
}
