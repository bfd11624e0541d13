/**
 * A withdrawal or transfer asked for more than the balance. Thrown by the handler inside the
 * account's job; `enqueueAndWait` rejects with an error of the same `name` on the calling pod,
 * which the controller turns into HTTP 409.
 */
export class InsufficientFundsError extends Error {
  constructor(
    readonly accountId: string,
    readonly balance: number,
    readonly requested: number,
  ) {
    super(`Account ${accountId} has ${balance}, cannot take ${requested}`);
    // A literal, not constructor.name: the name crosses process boundaries and must not change.
    this.name = 'InsufficientFundsError';
  }
}
