/**
 * Redis ACL users for a local redis-server: the ACL file `startLocalRedis` loads, and the rule
 * a user confined to one key prefix needs.
 */

/** One `user` line of the ACL file: `user <name> reset on ><password> <rules>`. */
export interface AclUser {
  name: string;
  password: string;
  /** What the user may do, e.g. `~app:* +@all` or an `aclRuleFor(...)` result. */
  rules: string;
}

export interface DefaultUserOptions {
  /** Password of the `default` user, which keeps every permission (Redis `requirepass`). */
  requirepass?: string;
  /** `'off'`: connections that don't authenticate as one of the ACL users are refused. */
  defaultUser?: 'on' | 'off';
}

export interface AclRuleOptions {
  /** The user may touch keys `<keyPrefix>:*` and no others. */
  keyPrefix: string;
  /**
   * Commands and `@categories` to allow, in order: a bare entry is allowed (`'@read'` →
   * `+@read`, `'evalsha'` → `+evalsha`), one starting with `-` or `+` is taken as written
   * (`'-@dangerous'`).
   */
  commands: readonly string[];
  /** Pub/Sub channel patterns the user may use. Default: `['<keyPrefix>:*']`; `[]` for none. */
  channels?: readonly string[];
}

function expectWord(name: string, value: string): void {
  if (value === '' || /\s/.test(value)) {
    throw new Error(
      `Expected \`${name}\` to be a non-empty string without spaces, got ${JSON.stringify(value)}`,
    );
  }
}

/** `prefix` as a glob that matches only itself (`*?[]\` escaped). */
function globLiteral(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The ACL rules (for `ACL SETUSER <name> on ><password> <rules>` or `AclUser.rules`) of a user
 * confined to keys and channels under `keyPrefix` that may run `commands`, e.g.
 * `aclRuleFor({ keyPrefix: 'app', commands: ['@read', '@write'] })` →
 * `'resetkeys ~app:* resetchannels &app:* -@all +@read +@write'`.
 */
export function aclRuleFor({ keyPrefix, commands, channels }: AclRuleOptions): string {
  expectWord('keyPrefix', keyPrefix);
  if (commands.length === 0) {
    throw new Error('Expected `commands` to list at least one command or @category, got `[]`');
  }
  commands.forEach((command, i) => expectWord(`commands[${i}]`, command));
  const patterns = channels ?? [`${globLiteral(keyPrefix)}:*`];
  patterns.forEach((channel, i) => expectWord(`channels[${i}]`, channel));
  // Each part resets what it sets, so the rule is exact on an existing user too.
  return [
    'resetkeys',
    `~${globLiteral(keyPrefix)}:*`,
    'resetchannels',
    ...patterns.map((channel) => `&${channel}`),
    '-@all',
    ...commands.map((command) => (/^[+-]/.test(command) ? command : `+${command}`)),
  ].join(' ');
}

/**
 * The ACL file for `users` and the default user's settings, or `undefined` when there is
 * nothing to configure (Redis's own default: `default` user on, no password).
 */
export function aclFileText(
  users: readonly AclUser[],
  { requirepass, defaultUser = 'on' }: DefaultUserOptions,
): string | undefined {
  if (users.length === 0 && requirepass === undefined && defaultUser === 'on') return undefined;
  if (requirepass !== undefined && defaultUser === 'off') {
    throw new Error('Expected `requirepass` or `defaultUser: "off"`, not both');
  }
  if (requirepass !== undefined) expectWord('requirepass', requirepass);
  const lines = [
    defaultUser === 'off'
      ? 'user default reset off'
      : `user default reset on ${requirepass === undefined ? 'nopass' : `>${requirepass}`} ~* &* +@all`,
  ];
  for (const { name, password, rules } of users) {
    expectWord('aclUsers[].name', name);
    expectWord('aclUsers[].password', password);
    if (name === 'default') {
      throw new Error('Expected an `aclUsers` name other than `default`: use `requirepass`');
    }
    lines.push(`user ${name} reset on >${password} ${rules}`);
  }
  return `${lines.join('\n')}\n`;
}
