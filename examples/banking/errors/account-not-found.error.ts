/** The account does not exist in the store (HTTP 404). */
export class AccountNotFoundError extends Error {
  constructor(readonly accountId: string) {
    super(`Account ${accountId} does not exist`);
    this.name = 'AccountNotFoundError';
  }
}
