// The types a user relies on, through the packed declarations: a command's declared result
// type, commands that are class instances, handlers' job data as declared.
import { AtomicEngine, QueueBus, QueueCommand, QueueEntity, QueueEntityId } from 'atomic-queues';

@QueueEntity('account')
export class WithdrawCommand extends QueueCommand<number> {
  constructor(@QueueEntityId() public readonly accountId: string) {
    super();
  }
}

export async function results(bus: QueueBus): Promise<number> {
  // @expect-error TS2322
  const s: string = await bus.enqueueAndWait(new WithdrawCommand('a1'));
  // @expect-error TS2345
  await bus.enqueue({ accountId: 'a1' });
  void s;
  return bus.execute(new WithdrawCommand('a1'));
}

export function handlers(engine: AtomicEngine): void {
  // @expect-error TS2339
  engine.registerHandler<{ quantity: number }>('product', (job) => job.data.qty);
  // @expect-error TS18046
  engine.registerHandler('product', (job) => job.data.quantity);
}
