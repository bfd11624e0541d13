/** Operation ids (ledger keys) of the two halves of a transfer. */
export const transferDebitId = (transferId: string): string => `transfer:${transferId}:debit`;
export const transferCreditId = (transferId: string): string => `transfer:${transferId}:credit`;
/** BullMQ job id of a transfer's credit: re-enqueueing it while it exists is ignored. */
export const transferCreditJobId = (transferId: string): string => `transfer-${transferId}`;
