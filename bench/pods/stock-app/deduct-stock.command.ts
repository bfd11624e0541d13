import { JobCommand, QueueEntity, QueueEntityId } from '../../../src';

/** Take one unit of a product's stock, for one order (`npm run bench -- seed`). */
@QueueEntity('product')
@JobCommand('product.deduct')
export class DeductStockCommand {
  constructor(
    @QueueEntityId() public readonly productId: string,
    public readonly orderId: string,
  ) {}
}
