import { DuplicateJobNameError, InvalidOptionsError } from '../../errors';
import type { ClassType } from '../interfaces/class-type.interface';

interface Entry {
  name: string;
  explicit: boolean;
}

/**
 * The stable job name of every `@QueueEntity` / `@JobCommand` / `@JobQuery` class, both ways:
 * class → name when enqueueing, name → class when reviving a job on any pod.
 *
 * A name is the explicit one given to `@JobCommand(name)` / `@JobQuery(name)`, otherwise the class
 * name captured when the decorator ran. Lookups go by class reference, never by
 * `instance.constructor.name` at runtime. Two classes under one explicit name fail at decoration
 * time; two under one captured class name fail when the name is looked up and at application
 * startup (a later `@JobCommand(name)` on the same class may still rename it, whatever the
 * decorator order).
 *
 * Classes are process-wide, so this registry is too: it is filled by decorators as classes are
 * defined, and holds nothing an application could make differ from another in the same process.
 */
export class JobNameRegistry {
  private readonly entries = new Map<ClassType, Entry>();
  private readonly byName = new Map<string, Set<ClassType>>();

  /** Registers `cls` under its class name unless it already has a name. */
  registerImplicit(cls: ClassType): void {
    if (this.entries.has(cls)) return;
    if (!cls.name)
      throw new InvalidOptionsError(
        'the job name of an anonymous class',
        "an explicit name: @JobCommand('<name>') or @JobQuery('<name>')",
        cls.name,
      );
    this.set(cls, { name: cls.name, explicit: false });
  }

  /** Registers `cls` under an explicit name; throws if another class holds that explicit name. */
  registerExplicit(cls: ClassType, name: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256 || name === '*')
      throw new InvalidOptionsError(
        `the job name of ${cls.name}`,
        "a non-empty string of at most 256 characters, not '*'",
        name,
      );
    const current = this.entries.get(cls);
    if (current?.explicit && current.name !== name)
      throw new InvalidOptionsError(
        `the job name of ${cls.name}`,
        `one name (it is already \`${current.name}\`)`,
        name,
      );
    for (const other of this.byName.get(name) ?? []) {
      if (other !== cls && this.entries.get(other)?.explicit)
        throw new DuplicateJobNameError(name, [other.name, cls.name]);
    }
    this.set(cls, { name, explicit: true });
  }

  /** The job name of a class, or undefined when it was never decorated. Own registration only. */
  nameOf(cls: ClassType): string | undefined {
    return this.entries.get(cls)?.name;
  }

  /** The class registered under a job name; throws DuplicateJobNameError when several are. */
  classFor(name: string): ClassType | undefined {
    const classes = this.byName.get(name);
    if (!classes || classes.size === 0) return undefined;
    if (classes.size > 1)
      throw new DuplicateJobNameError(
        name,
        [...classes].map((c) => c.name),
      );
    return [...classes][0];
  }

  /** Throws DuplicateJobNameError for the first name held by two classes. */
  validate(): void {
    for (const name of this.byName.keys()) this.classFor(name);
  }

  private set(cls: ClassType, entry: Entry): void {
    const previous = this.entries.get(cls);
    if (previous) this.byName.get(previous.name)?.delete(cls);
    this.entries.set(cls, entry);
    const classes = this.byName.get(entry.name) ?? new Set<ClassType>();
    classes.add(cls);
    this.byName.set(entry.name, classes);
  }
}

/** The registry the decorators fill. */
export const jobNames = new JobNameRegistry();
