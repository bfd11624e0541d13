/**
 * Scenario 10: bad ids and payloads at volume against the banking example's HTTP API (3 pods of
 * build/examples/banking/main.js, its own redis-server and SQLite store), mixed with valid
 * operations. Every bad request must get a 4xx, no pod may crash, nothing may be written outside
 * the key prefix (SCAN), no rejected id may reach Redis, and the valid operations must all land
 * exactly once in the example's ledger with money conserved.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../scripts/local-redis';
import { BankStore } from '../examples/banking/store/bank-store';
import { keysOutsidePrefix, type RunParams } from './harness';
import { ChildHandle, forgetTempDir, registerTempDir } from './procs';
import { failedResult, type Scenario, type ScenarioResult } from './scenarios';
import type { Check } from './harness';
import { mapLimit, sleep } from '../support/async';
import { seededRandom } from '../support/random';
import { now } from './util';

const BANKING_MAIN = path.join(__dirname, '..', 'examples', 'banking', 'main.js');
const KEY_PREFIX = 'chaosbank';
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const OPENING = 1_000_000;
/** The example's own id rule (examples/banking/http-errors.ts). */
const VALID_ID = /^[A-Za-z0-9_.~-]{1,100}$/;
/** Terminal colour codes in Nest's log lines. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

interface Req {
  category: string;
  method: string;
  /** Raw request path, already percent-encoded where needed. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Valid operations: what the ledger must show once answered 200. */
  valid?: { kind: 'deposit' | 'withdrawal' | 'transfer'; opId: string; amount: number };
}

interface Answer {
  req: Req;
  status: number | null;
  error?: string;
  body: string;
  /** Sent again on a fresh connection after the first one was closed under it. */
  retried?: boolean;
}

const json = (v: unknown): string => JSON.stringify(v);
const enc = (id: string): string => encodeURIComponent(id);

/** Ids that must never reach Redis (they fail the example's id rule), as raw path segments. */
function badIdSegments(): { name: string; segment: string }[] {
  const ids: [string, string][] = [
    ['empty', ''],
    ['space', ' '],
    ['colon', 'a:b'],
    ['braces', '{alice}'],
    ['hash tag', '{x}y'],
    ['glob', '*?['],
    ['star', '*'],
    ['brackets', '[0]'],
    ['newline', 'a\nb'],
    ['crlf', 'alice\r\nSET x 1'],
    ['unicode', 'ünïcødé'],
    ['cjk', '账户'],
    ['emoji', '🙂'],
    ['101 chars', 'x'.repeat(101)],
    ['600 chars', 'y'.repeat(600)],
    ['5000 chars', 'z'.repeat(5000)],
    ['dot dot', '..'],
    ['percent', '%'],
    ['nul', 'alice\u0000'],
    ['slash', 'alice/../bob'],
    ['sql', "alice'; DROP TABLE accounts;--"],
    ['mongo', '$gt'],
    ['quote', '"alice"'],
    ['backslash', 'a\\b'],
    ['tab', 'a\tb'],
  ];
  const out = ids.map(([name, id]) => ({ name, segment: enc(id) }));
  // Raw segments encodeURIComponent can't produce: a lone surrogate, bad escapes, overlong UTF-8.
  out.push(
    { name: 'lone surrogate', segment: '%ED%A0%80' },
    { name: 'bad escape', segment: '%zz' },
    { name: 'overlong utf8', segment: '%C0%AF' },
    { name: 'encoded slash', segment: 'alice%2Fbob' },
  );
  return out;
}

/** Bodies for a valid account's endpoint that must be refused. */
function badBodies(): { name: string; body: string | Buffer; type?: string }[] {
  const big = (n: number): string => json({ amount: 5, pad: 'p'.repeat(n) });
  return [
    { name: 'empty body', body: '' },
    { name: 'not json', body: 'amount=5' },
    { name: 'truncated json', body: '{"amount":' },
    { name: 'json null', body: 'null' },
    { name: 'json array', body: '[5]' },
    { name: 'json string', body: '"5"' },
    { name: 'amount string', body: json({ amount: '10' }) },
    { name: 'amount negative', body: json({ amount: -5 }) },
    { name: 'amount zero', body: json({ amount: 0 }) },
    { name: 'amount fraction', body: json({ amount: 1.5 }) },
    { name: 'amount unsafe', body: '{"amount": 9007199254740993}' },
    { name: 'amount overflow', body: '{"amount": 1e309}' },
    { name: 'amount null', body: json({ amount: null }) },
    { name: 'amount object', body: json({ amount: { $gt: 0 } }) },
    { name: 'amount array', body: json({ amount: [5] }) },
    { name: 'amount bool', body: json({ amount: true }) },
    { name: '__proto__ key', body: '{"__proto__": {"amount": 10}}' },
    { name: 'constructor.prototype', body: '{"constructor": {"prototype": {"amount": 10}}}' },
    { name: '__proto__ operationId', body: '{"amount": 5, "operationId": {"__proto__": "x"}}' },
    { name: 'operationId colon', body: json({ amount: 5, operationId: 'a:b' }) },
    { name: 'operationId empty', body: json({ amount: 5, operationId: '' }) },
    { name: 'operationId long', body: json({ amount: 5, operationId: 'o'.repeat(300) }) },
    { name: 'operationId newline', body: json({ amount: 5, operationId: 'a\nb' }) },
    { name: 'operationId unicode', body: json({ amount: 5, operationId: 'ø🙂' }) },
    { name: 'operationId number', body: json({ amount: 5, operationId: 12 }) },
    { name: 'operationId null', body: json({ amount: 5, operationId: null }) },
    { name: 'invalid utf8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    { name: 'deep nesting', body: '['.repeat(20_000) + ']'.repeat(20_000) },
    { name: 'oversized 200 KB', body: big(200_000) },
    { name: 'oversized 2 MB', body: big(2_000_000) },
    { name: 'text/plain', body: json({ amount: 5 }), type: 'text/plain' },
    { name: 'form encoded', body: 'amount=5', type: 'application/x-www-form-urlencoded' },
    { name: 'no content type', body: json({ amount: 5 }), type: '' },
  ];
}

function badTransfers(): { name: string; body: string }[] {
  return [
    { name: 'transfer no to', body: json({ amount: 5 }) },
    { name: 'transfer to self', body: json({ to: 'alice', amount: 5 }) },
    { name: 'transfer to glob', body: json({ to: '*?[', amount: 5 }) },
    { name: 'transfer to braces', body: json({ to: '{bob}', amount: 5 }) },
    { name: 'transfer to colon', body: json({ to: 'bob:x', amount: 5 }) },
    { name: 'transfer to unicode', body: json({ to: 'bøb', amount: 5 }) },
    { name: 'transfer to long', body: json({ to: 'b'.repeat(600), amount: 5 }) },
    { name: 'transfer to object', body: json({ to: { __proto__: 'bob' }, amount: 5 }) },
    { name: 'transfer to __proto__', body: '{"to": "__proto__", "amount": 5}' },
    { name: 'transfer to unknown', body: json({ to: 'nobody', amount: 5 }) },
    { name: 'transfer too much', body: json({ to: 'bob', amount: OPENING * 10 }) },
    { name: 'transferId colon', body: json({ to: 'bob', amount: 5, transferId: 'a:b' }) },
  ];
}

function planRequests(total: number, random: () => number): Req[] {
  const badIds = badIdSegments();
  const bodies = badBodies();
  const transfers = badTransfers();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const jsonType = { 'content-type': 'application/json' };
  const templates: (() => Req)[] = [
    () => {
      const id = pick(badIds);
      const op = pick(['withdraw', 'deposit', 'transfer']);
      const body = op === 'transfer' ? json({ to: 'bob', amount: 5 }) : json({ amount: 5 });
      return {
        category: `bad id (${id.name}) ${op}`,
        method: 'POST',
        path: `/accounts/${id.segment}/${op}`,
        headers: jsonType,
        body,
      };
    },
    () => {
      const id = pick(badIds);
      return {
        category: `bad id (${id.name}) GET`,
        method: 'GET',
        path: `/accounts/${id.segment}`,
      };
    },
    () => {
      const b = pick(bodies);
      const type = b.type ?? 'application/json';
      return {
        category: `bad body (${b.name})`,
        method: 'POST',
        path: `/accounts/${pick(ACCOUNTS)}/${pick(['withdraw', 'deposit'])}`,
        headers: type ? { 'content-type': type } : {},
        body: b.body,
      };
    },
    () => {
      const t = pick(transfers);
      return {
        category: `bad transfer (${t.name})`,
        method: 'POST',
        path: '/accounts/alice/transfer',
        headers: jsonType,
        body: t.body,
      };
    },
    () => ({
      category: 'unknown account __proto__',
      method: 'POST',
      path: `/accounts/${pick(['__proto__', 'constructor', 'nobody', 'hasOwnProperty'])}/withdraw`,
      headers: jsonType,
      body: json({ amount: 5 }),
    }),
    () => ({
      category: 'path too long (431/414)',
      method: 'GET',
      path: `/accounts/${'q'.repeat(20_000)}`,
    }),
    () => ({
      category: 'header too large',
      method: 'POST',
      path: '/accounts/alice/deposit',
      headers: { ...jsonType, 'x-junk': 'j'.repeat(20_000) },
      body: json({ amount: 5 }),
    }),
    () => ({
      category: 'wrong method / route',
      method: pick(['PUT', 'DELETE', 'PATCH']),
      path: `/accounts/alice/${pick(['withdraw', 'steal', ''])}`,
      headers: jsonType,
      body: json({ amount: 5 }),
    }),
  ];
  const out: Req[] = [];
  let valid = 0;
  for (let i = 0; i < total; i++) {
    if (random() < 0.2) {
      valid += 1;
      const amount = 1 + Math.floor(random() * 50);
      const from = pick(ACCOUNTS);
      const kind = pick(['deposit', 'withdrawal', 'transfer'] as const);
      if (kind === 'transfer') {
        const to = pick(ACCOUNTS.filter((a) => a !== from));
        const opId = `t-${valid}`;
        out.push({
          category: 'valid transfer',
          method: 'POST',
          path: `/accounts/${from}/transfer`,
          headers: jsonType,
          body: json({ to, amount, transferId: opId }),
          valid: { kind, opId, amount },
        });
      } else {
        const opId = `op-${valid}`;
        out.push({
          category: `valid ${kind}`,
          method: 'POST',
          path: `/accounts/${from}/${kind === 'deposit' ? 'deposit' : 'withdraw'}`,
          headers: jsonType,
          body: json({ amount, operationId: opId }),
          valid: { kind, opId, amount },
        });
      }
    } else {
      out.push(pick(templates)());
    }
  }
  return out;
}

/**
 * Sends a request; a connection the server closed under a reused keep-alive socket (after a 413
 * or 431 it closes it) is retried once on a fresh connection, so only the server's answer counts.
 */
async function send(agent: http.Agent, port: number, req: Req): Promise<Answer> {
  const first = await sendOnce(agent, port, req);
  if (first.status !== null || first.error?.startsWith('client refused')) return first;
  const retry = await sendOnce(false, port, req);
  return { ...retry, retried: true };
}

function sendOnce(agent: http.Agent | false, port: number, req: Req): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Omit<Answer, 'req'>): void => {
      if (settled) return;
      settled = true;
      resolve({ req, ...a });
    };
    let r: http.ClientRequest;
    try {
      r = http.request(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.path,
          headers: req.headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (chunks.length < 4) chunks.push(c);
          });
          res.on('end', () =>
            done({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (err) =>
            done({ status: res.statusCode ?? null, body: '', error: err.message }),
          );
        },
      );
    } catch (err) {
      // The client itself refused to send it (e.g. an invalid character): not a server answer.
      done({ status: null, body: '', error: `client refused: ${(err as Error).message}` });
      return;
    }
    r.setTimeout(30_000, () => r.destroy(new Error('timeout')));
    r.on('error', (err) => done({ status: null, body: '', error: err.message }));
    r.end(req.body);
  });
}

async function runBadInput(this: Scenario, params: RunParams): Promise<ScenarioResult> {
  const t0 = now();
  const dir = mkdtempSync(path.join(tmpdir(), 'aq-chaos-bad-input-'));
  if (!params.keep) registerTempDir(dir);
  const pods: ChildHandle[] = [];
  let redis: LocalRedis | undefined;
  let store: BankStore | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = ''): void => {
    checks.push({ name, ok, detail });
  };
  try {
    redis = await startLocalRedis({
      appendonly: true,
      appendfsync: 'always',
      dir: path.join(dir, 'redis'),
    });
    const storePath = path.join(dir, 'bank.sqlite');
    store = new BankStore(storePath);
    store.seed(Object.fromEntries(ACCOUNTS.map((a) => [a, OPENING])));
    const env = {
      ...process.env,
      REDIS_URL: redis.url,
      BANKING_STORE: storePath,
      BANKING_KEY_PREFIX: KEY_PREFIX,
      BANKING_HEARTBEAT_TTL: String(params.heartbeatTTL),
      BANKING_OUTBOX_MS: '1000',
    };
    const ports: number[] = [];
    await Promise.all(
      Array.from({ length: params.pods }, async (_, i) => {
        const name = `bank${i}`;
        const pod = new ChildHandle(name, BANKING_MAIN, [], path.join(dir, `${name}.log`), {
          ...env,
          BANKING_POD: name,
        });
        pods.push(pod);
        const port = await pod.waitFor(
          (m) =>
            (m as { type?: string }).type === 'ready'
              ? Number((m as { port: number }).port)
              : undefined,
          90_000,
        );
        ports[i] = port;
      }),
    );

    const total = params.quick ? 1500 : 8000;
    const requests = planRequests(total, seededRandom(params.seed ^ 0xbad));
    const answers = await mapLimit(requests, 24, (req, i) =>
      send(agent, ports[i % ports.length], req),
    );

    // Bad requests: 4xx, each.
    const bad = answers.filter((a) => !a.req.valid);
    const byCategory = new Map<string, Map<string, number>>();
    for (const a of bad) {
      const key = a.req.category.replace(/ (withdraw|deposit|transfer|GET)$/, '');
      const m = byCategory.get(key) ?? new Map<string, number>();
      const status = a.status === null ? `error: ${a.error}` : String(a.status);
      m.set(status, (m.get(status) ?? 0) + 1);
      byCategory.set(key, m);
    }
    const not4xx = bad.filter((a) => a.status === null || a.status < 400 || a.status >= 500);
    const clientRefused = not4xx.filter((a) => a.error?.startsWith('client refused'));
    const wrong = not4xx.filter((a) => !a.error?.startsWith('client refused'));
    const wrongCats = new Map<string, string>();
    for (const a of wrong)
      wrongCats.set(a.req.category, `${a.status ?? a.error} ${a.body.slice(0, 160)}`);
    check(
      'every bad request answered 4xx',
      wrong.length === 0,
      `${wrong.length}/${bad.length} not 4xx: ${[...wrongCats].map(([c, s]) => `${c} -> ${s}`).join(' | ')}`,
    );

    // Valid operations: 200 (409 would be a refusal for funds, not expected with these balances).
    const valid = answers.filter((a) => a.req.valid);
    const validFailed = valid.filter((a) => a.status !== 200);
    check(
      'every valid operation answered 200',
      validFailed.length === 0,
      validFailed
        .slice(0, 5)
        .map((a) => `${a.req.category} ${a.status ?? a.error} ${a.body.slice(0, 160)}`)
        .join(' | '),
    );

    // Transfers answered 200 were debited; wait (bounded) for their credits.
    const settleUntil = Date.now() + Math.min(30_000, Math.max(0, params.deadline - Date.now()));
    while (store.pendingTransfers().length > 0 && Date.now() < settleUntil) await sleep(100);
    const pending = store.pendingTransfers().length;
    check('every debited transfer credited', pending === 0, `${pending} pending`);

    check(
      'no pod crashed during the run',
      pods.every((p) => p.alive),
      pods
        .filter((p) => !p.alive)
        .map((p) => `${p.name} ${JSON.stringify(p.exit)}\n${p.logTail(1500)}`)
        .join('\n'),
    );

    // Redis: nothing outside the prefix; no rejected id ever reached a key.
    const client = new Redis(redis.url, { maxRetriesPerRequest: 3 });
    let keys: string[] = [];
    try {
      const outside = await keysOutsidePrefix(client, `${KEY_PREFIX}:`);
      check(
        'nothing written outside the key prefix (SCAN)',
        outside.length === 0,
        outside.slice(0, 10).join(', '),
      );
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
    const entityIds = new Set<string>();
    for (const k of keys) {
      const m = /^chaosbank:\{account-(.*)-queue\}:/.exec(k);
      if (m) entityIds.add(m[1]);
    }
    const leaked = [...entityIds].filter((id) => !VALID_ID.test(decodeSafe(id)));
    check(
      'no rejected id reached Redis (entity queues only for ids the API accepts)',
      leaked.length === 0,
      leaked.slice(0, 10).join(', '),
    );
    keys = [];

    // The ledger: each valid operation answered 200 applied once; money conserved.
    const ledger = store.ledger();
    const byOp = new Map(ledger.map((l) => [l.operationId, l]));
    const accepted = valid.filter((a) => a.status === 200);
    const ledgerIds = (v: NonNullable<Req['valid']>): string[] =>
      v.kind === 'transfer'
        ? [`transfer:${v.opId}:debit`, `transfer:${v.opId}:credit`]
        : [`${v.kind}:${v.opId}`];
    const lostOps = accepted.filter((a) => ledgerIds(a.req.valid!).some((id) => !byOp.has(id)));
    const executed = accepted.length - lostOps.length;
    let drift = 0;
    const driftNotes: string[] = [];
    const sums = new Map<string, number>();
    for (const l of ledger) sums.set(l.accountId, (sums.get(l.accountId) ?? 0) + l.amount);
    for (const a of store.accounts()) {
      const d = a.balance - a.openingBalance - (sums.get(a.id) ?? 0);
      if (d !== 0) driftNotes.push(`${a.id}: balance ${a.balance} vs ledger ${d}`);
      drift += Math.abs(d);
    }
    let expectedTotal = ACCOUNTS.length * OPENING;
    for (const a of accepted) {
      const v = a.req.valid!;
      if (v.kind === 'deposit') expectedTotal += v.amount;
      if (v.kind === 'withdrawal') expectedTotal -= v.amount;
    }
    const total$ = store.accounts().reduce((n, a) => n + a.balance, 0);
    drift += Math.abs(total$ - expectedTotal);
    if (total$ !== expectedTotal) driftNotes.push(`total ${total$}, expected ${expectedTotal}`);
    const negative = ledger.filter((l) => l.balanceAfter < 0).length;
    drift += negative;
    const acceptedIds = new Set(accepted.flatMap((a) => ledgerIds(a.req.valid!)));
    const unknownLedger = ledger.filter((l) => !acceptedIds.has(l.operationId)).length;
    check(
      'the ledger holds only accepted operations',
      unknownLedger === 0,
      `${unknownLedger} unexpected rows`,
    );

    // Graceful stop: exit 0 each.
    const exits = await Promise.all(pods.map((p) => p.stop(20_000)));
    // Nest's shutdown hooks re-raise SIGTERM once the app is closed: exit 0 or SIGTERM is graceful.
    const badExit = pods.filter(
      (_, i) =>
        !(exits[i]?.code === 0 || (exits[i]?.code === null && exits[i]?.signal === 'SIGTERM')),
    );
    check(
      'pods stop gracefully (exit 0, or the SIGTERM Nest re-raises)',
      badExit.length === 0,
      badExit.map((p) => `${p.name} ${JSON.stringify(p.exit)}\n${p.logTail(1500)}`).join('\n'),
    );
    const unhandled = pods.flatMap((p) =>
      p
        .logTail(2_000_000)
        .replace(ANSI, '')
        .split('\n')
        .filter((l) => /Unhandled|TypeError|ReferenceError|RangeError/.test(l))
        .map((l) => `${p.name}: ${l.trim().slice(0, 200)}`),
    );
    check(
      'no unhandled error in the pod logs',
      unhandled.length === 0,
      `${unhandled.length} lines, e.g. ${[...new Set(unhandled)].slice(0, 3).join(' | ')}`,
    );

    const required: Check[] = [
      { name: 'accepted > 0', ok: accepted.length > 0, detail: `${accepted.length}` },
      {
        name: 'lost = 0',
        ok: lostOps.length === 0,
        detail: lostOps
          .slice(0, 5)
          .map((a) => a.req.valid!.opId)
          .join(', '),
      },
      { name: 'drift = 0', ok: drift === 0, detail: driftNotes.slice(0, 5).join('; ') },
    ];
    const all = [...required, ...checks];
    return {
      name: this.name,
      number: this.number,
      title: this.title,
      ok: all.every((c) => c.ok),
      accepted: accepted.length,
      executed,
      lost: lostOps.length,
      overlaps: null,
      fencedWrites: null,
      duplicateEffects: 0,
      orderInversions: null,
      drift,
      recoveryMsP50: null,
      recoveryMsP99: null,
      faultsInjected: bad.length,
      durationMs: Math.round(now() - t0),
      checks: all,
      details: {
        requests: answers.length,
        badRequests: bad.length,
        validRequests: valid.length,
        clientRefused: clientRefused.length,
        retriedOnFreshConnection: answers.filter((a) => a.retried).length,
        statusByCategory: Object.fromEntries(
          [...byCategory].map(([c, m]) => [c, Object.fromEntries(m)]),
        ),
        notMeasured:
          'overlaps, fencedWrites, order: the example store logs commits, not execution intervals; ' +
          'lost updates from overlapping runs would show as drift. duplicateEffects: the ledger ' +
          'is keyed by operation id.',
      },
    };
  } catch (err) {
    return failedResult(this, err, now() - t0);
  } finally {
    agent.destroy();
    await Promise.all(pods.map((p) => (p.alive ? p.kill() : Promise.resolve())));
    try {
      store?.close();
    } catch {
      // closed
    }
    await redis?.stop().catch(() => undefined);
    if (!params.keep) {
      rmSync(dir, { recursive: true, force: true });
      forgetTempDir(dir);
    }
  }
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export const BANKING_SCENARIO: Scenario = {
  number: 10,
  name: 'bad-input',
  title: 'bad ids and payloads at volume against the banking example HTTP API',
  run(params) {
    return runBadInput.call(this, params);
  },
};
