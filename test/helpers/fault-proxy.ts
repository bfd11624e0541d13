/**
 * A TCP proxy between the engine under test and the test's redis-server that loses replies on
 * cue. `CLIENT KILL` alone is racy (the reply may already be on its way, or the command not yet
 * run); here the proxy reads the Redis protocol both ways, so it can let a command through, see
 * Redis's reply to it (so Redis ran it), drop that reply and close the client's connection.
 * ioredis then reconnects through the proxy and resends what it had not been answered, as it
 * does after a real connection loss.
 *
 * Point the engine at `proxy.url`. Listens on 127.0.0.1 only; `close()` ends every connection.
 */
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { commandWords, RespError, RespReader, type RespValue } from './resp';

/** Says which command's reply to lose: its words (`['evalsha', sha, ...]`) and Redis's reply. */
export type ReplyMatch = (command: string[], reply: RespValue) => boolean;

/** Says which pushed message (pub/sub) to lose: its words (`['message', channel, payload]`). */
export type PushMatch = (message: string[]) => boolean;

/** What a fault hit: the command (or message) whose reply was lost, and when. */
export interface LostReply {
  words: string[];
  reply: RespValue;
  at: number;
}

interface Fault {
  kind: 'reply' | 'push';
  match: (words: string[], reply: RespValue) => boolean;
  done: (lost: LostReply) => void;
}

/** Pub/sub frames that answer no command of the connection. */
const PUSHED = new Set(['message', 'pmessage', 'smessage']);

class Link {
  private readonly commands: string[][] = [];
  private readonly fromClient = new RespReader();
  private readonly fromServer = new RespReader();
  private subscriber = false;
  private cut = false;

  constructor(
    private readonly client: Socket,
    private readonly server: Socket,
    private readonly proxy: FaultProxy,
  ) {
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    server.on('data', (chunk: Buffer) => this.onServerData(chunk));
    const end = (): void => this.close();
    for (const socket of [client, server]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  }

  private onClientData(chunk: Buffer): void {
    if (this.cut) return;
    for (const { value } of this.fromClient.push(chunk)) {
      const words = commandWords(value);
      const name = (words[0] ?? '').toLowerCase();
      if (name === 'subscribe' || name === 'psubscribe' || name === 'ssubscribe')
        this.subscriber = true;
      this.commands.push(words);
    }
    this.server.write(chunk);
  }

  private onServerData(chunk: Buffer): void {
    if (this.cut) return;
    for (const { value, bytes } of this.fromServer.push(chunk)) {
      const words = Array.isArray(value) ? commandWords(value) : [];
      const pushed = this.subscriber && PUSHED.has((words[0] ?? '').toLowerCase());
      const command = pushed ? words : (this.commands.shift() ?? []);
      if (this.proxy.takeFault(pushed ? 'push' : 'reply', command, value)) {
        this.lose();
        return;
      }
      this.client.write(bytes);
    }
  }

  /** Drops this reply and all that follows; the client gets what was sent before, then EOF. */
  private lose(): void {
    this.cut = true;
    this.server.destroy();
    this.client.end(() => this.client.destroy());
  }

  /** Cuts the connection both ways at once (an outage). */
  drop(): void {
    this.cut = true;
    this.server.destroy();
    this.client.destroy();
  }

  close(): void {
    if (!this.client.destroyed) this.client.destroy();
    if (!this.server.destroyed) this.server.destroy();
    this.proxy.forget(this);
  }
}

export class FaultProxy {
  private readonly links = new Set<Link>();
  private readonly faults: Fault[] = [];
  /** Connections accepted during an outage, waiting for it to end. */
  private held: Socket[] | undefined;
  private server?: Server;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts a proxy on a free loopback port, forwarding to the Redis at `redisUrl`. */
  static async start(redisUrl: string): Promise<FaultProxy> {
    const target = new URL(redisUrl);
    const proxy = new FaultProxy(target.hostname, Number(target.port || 6379));
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private listen(): Promise<void> {
    const server = createServer((client) => {
      client.pause();
      if (this.held) this.held.push(client);
      else this.link(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
  }

  /**
   * Loses the reply to the next command that `match` picks (its words and Redis's reply to it):
   * Redis ran the command, the client never hears back and its connection closes. Resolves
   * when that happened.
   */
  loseReply(match: ReplyMatch): Promise<LostReply> {
    return this.arm('reply', match);
  }

  /** Loses the next pub/sub message `match` picks, and closes that subscriber's connection. */
  losePush(match: PushMatch): Promise<LostReply> {
    return this.arm('push', (words) => match(words));
  }

  private link(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost, () => client.resume());
    this.links.add(new Link(client, upstream, this));
  }

  /**
   * An outage: cuts every connection; new ones are accepted but get no answer until
   * {@link resume} (the client reconnects the moment the outage ends, whatever its backoff).
   */
  cutAll(): void {
    this.held ??= [];
    for (const link of [...this.links]) link.drop();
  }

  /** Ends the outage: the connections made meanwhile reach Redis now. */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const client of held) if (!client.destroyed) this.link(client);
  }

  /** Faults armed and not hit yet. */
  get armed(): number {
    return this.faults.length;
  }

  /** For a link: the first armed fault of `kind` that matches takes this frame. */
  takeFault(kind: Fault['kind'], words: string[], reply: RespValue): boolean {
    const i = this.faults.findIndex((f) => f.kind === kind && f.match(words, reply));
    if (i < 0) return false;
    const [fault] = this.faults.splice(i, 1);
    fault.done({ words, reply, at: Date.now() });
    return true;
  }

  forget(link: Link): void {
    this.links.delete(link);
  }

  async close(): Promise<void> {
    for (const client of this.held ?? []) client.destroy();
    this.held = undefined;
    for (const link of [...this.links]) link.close();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private arm(kind: Fault['kind'], match: Fault['match']): Promise<LostReply> {
    return new Promise((resolve) => this.faults.push({ kind, match, done: resolve }));
  }
}

/** SHA1 of a script's source, as EVALSHA names it. */
export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Matches a call of the script whose SHA1 is `sha` (EVALSHA, or the EVAL ioredis falls back to). */
export function isScript(sha: string): (command: string[]) => boolean {
  return (command) => {
    const name = (command[0] ?? '').toLowerCase();
    if (name === 'evalsha') return command[1] === sha;
    if (name === 'eval') return sha1(command[1] ?? '') === sha;
    return false;
  };
}

/** Matches a command by name (`bzpopmin`), case-insensitive. */
export function isCommand(name: string): (command: string[]) => boolean {
  return (command) => (command[0] ?? '').toLowerCase() === name.toLowerCase();
}

/** True when a reply is neither null nor an error (a blocking pop that popped something). */
export function hasValue(reply: RespValue): boolean {
  return reply !== null && !(reply instanceof RespError);
}
