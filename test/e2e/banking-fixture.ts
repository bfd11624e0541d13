import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BankStore } from '../../examples/banking/store/bank-store';

/** A temporary SQLite store seeded with `balances`; `remove()` closes and deletes it. */
export function tempStore(balances: Record<string, number>): {
  path: string;
  store: BankStore;
  remove(): void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-banking-test-'));
  const file = path.join(dir, 'bank.sqlite');
  const store = new BankStore(file);
  store.seed(balances);
  return {
    path: file,
    store,
    remove() {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  body: any;
}

/** POSTs JSON and returns the status and parsed body. */
export async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
