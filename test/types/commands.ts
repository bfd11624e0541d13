// What the compiler infers and refuses for commands (checked by test/unit/type-checks.test.ts):
// each `// @ts-expect-error TS<code>` line must be followed by a line failing with that code.
// Also compiled by the build, where `@ts-expect-error` fails if the line compiles.
import { Command } from '@nestjs/cqrs';
import { QueueBus, QueueCommand, QueueEntity, QueueEntityId } from '../../src';

@QueueEntity('account')
class WithdrawCommand extends QueueCommand<number> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
  ) {
    super();
  }
}

@QueueEntity('account')
class DepositCommand extends Command<{ balance: number }> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
  ) {
    super();
  }
}

@QueueEntity('account')
class CloseCommand {
  constructor(@QueueEntityId() public readonly accountId: string) {}
}

export async function results(bus: QueueBus): Promise<void> {
  // The result type the command declares, through our base class and @nestjs/cqrs's.
  const left: number = await bus.enqueueAndWait(new WithdrawCommand('a1', 5));
  const balance: number = (await bus.execute(new DepositCommand('a1', 5))).balance;
  // None declared: unknown, which the caller must narrow.
  const closed: unknown = await bus.enqueueAndWait(new CloseCommand('a1'));
  const jobId: string = await bus.enqueue(new WithdrawCommand('a1', 5));
  void [left, balance, closed, jobId];

  // @ts-expect-error TS2322 the handler returns a number
  const s: string = await bus.enqueueAndWait(new WithdrawCommand('a1', 5));
  // @ts-expect-error TS2322 execute infers as enqueueAndWait does
  const t: string = await bus.execute(new WithdrawCommand('a1', 5));
  // @ts-expect-error TS2339 @nestjs/cqrs's Command<R> declares the result's shape
  void (await bus.execute(new DepositCommand('a1', 5))).total;
  // @ts-expect-error TS2322 no declared result is unknown, not any
  const u: number = await bus.enqueueAndWait(new CloseCommand('a1'));
  void [s, t, u];
}

export async function objectLiterals(bus: QueueBus): Promise<void> {
  // @ts-expect-error TS2345 an object literal can't carry @QueueEntity
  await bus.enqueueAndWait({ accountId: 'a1', amount: 5 });
  // @ts-expect-error TS2345 the same for enqueue
  await bus.enqueue({ accountId: 'a1', amount: 5 });
  // @ts-expect-error TS2345 and for execute
  await bus.execute({ accountId: 'a1' });
  // An instance typed as an interface or `object` compiles: checked at run time.
  const command: object = new CloseCommand('a1');
  await bus.enqueue(command);
}
