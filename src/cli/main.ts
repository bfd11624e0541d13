#!/usr/bin/env node
// `npx atomic-queues`: the operator's CLI (README "Operations", "CLI"). Each run starts a
// producer-only engine, runs one command through the engine's admin calls, and stops it.
import { RedisConnectionError } from '../errors';
import { parseCli, UsageError, type CliArgs } from './args';
import { COMMANDS } from './commands';
import { checkPrefixHasData, openSession, SetupError } from './connect';
import { COMMAND_USAGE, MAIN_USAGE } from './usage';

/** Runs the CLI; resolves with the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCli(argv, env);
  } catch (err) {
    return fail(err);
  }
  if (args.command === undefined || args.help) {
    process.stdout.write(`${args.command ? COMMAND_USAGE[args.command] : MAIN_USAGE}\n`);
    return args.command === undefined && !args.help ? 2 : 0;
  }
  let session;
  try {
    session = await openSession({
      url: args.redis,
      prefix: args.prefix,
      cluster: args.cluster,
      timeoutMs: args.timeoutMs,
    });
  } catch (err) {
    return fail(err);
  }
  try {
    await checkPrefixHasData(session.engine, redactedUrl(args.redis));
    const output = await COMMANDS[args.command](session.engine, args);
    process.stdout.write(
      args.json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`,
    );
    return 0;
  } catch (err) {
    return fail(err);
  } finally {
    await session.close();
  }
}

/** One line on stderr; 2 for usage and setup problems, 1 for a command that failed. */
function fail(err: unknown): number {
  const error = err instanceof Error ? err : new Error(String(err));
  const setup =
    error instanceof UsageError ||
    error instanceof SetupError ||
    error instanceof RedisConnectionError;
  process.stderr.write(`atomic-queues: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
  return setup ? 2 : 1;
}

function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return url;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
