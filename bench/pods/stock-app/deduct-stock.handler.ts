import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DeductStockCommand } from './deduct-stock.command';
import { StockStore } from './stock.store';

@CommandHandler(DeductStockCommand)
export class DeductStockHandler implements ICommandHandler<DeductStockCommand, number> {
  constructor(private readonly store: StockStore) {}

  execute({ productId }: DeductStockCommand): Promise<number> {
    return this.store.deduct(productId);
  }
}
