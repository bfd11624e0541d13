/** The key of QueueCommand's result type: declared only, never set at run time. */
declare const QUEUE_RESULT: unique symbol;

/**
 * A base class for commands and queries that declare their handler's result type, so that
 * `QueueBus.enqueueAndWait()` / `execute()` return it: `class WithdrawCommand extends
 * QueueCommand<number>`. It adds nothing at run time (no field, nothing in the payload). With
 * `@nestjs/cqrs` installed, extending its `Command<R>` or `Query<R>` does the same.
 */
export abstract class QueueCommand<R = unknown> {
  /** The result type, for the compiler only. */
  declare readonly [QUEUE_RESULT]?: R;
}

/** The result type a command declares, from `QueueCommand<R>`, or from `@nestjs/cqrs`'s `Command<R>` / `Query<R>`. */
export type CommandResult<C> =
  C extends QueueCommand<infer R> ? (unknown extends R ? PhantomResult<C> : R) : PhantomResult<C>;

/**
 * `@nestjs/cqrs` 11's `Command<R>` and `Query<R>` carry `R` under a symbol key of their own: a
 * class whose only symbol-keyed member is such a key declares that result. The package is an
 * optional peer, so its symbol is not imported; a class with other symbol-keyed members (an
 * iterator) declares none, and gets `unknown` rather than a wrong type.
 */
type PhantomResult<C> = [keyof C & symbol] extends [never]
  ? unknown
  : IsUnion<keyof C & symbol> extends true
    ? unknown
    : C[keyof C & symbol];

type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/**
 * What `QueueBus` accepts as a command: an instance of a class. An object literal's type (or a
 * type alias of one) is refused at compile time, since it can't carry `@QueueEntity`; TypeScript
 * can't tell apart an instance of a class without the decorator, which fails at run time with
 * MissingQueueEntityError.
 */
export type QueueMessage<C> =
  C extends Record<string, unknown>
    ? C & { 'a command is an instance of a @QueueEntity class, not an object literal': never }
    : C;
