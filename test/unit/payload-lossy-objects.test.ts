/**
 * Objects JSON would store as something else without a word (a Map or Set becomes `{}`, a typed
 * array an object of indexes) are refused with their path, like a BigInt. Objects with a
 * `toJSON` (Date, Buffer, your own) are the author's choice and pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidPayloadError } from '../../src';
import { checkPayload } from '../../src/core/producing/payload';

const LIMIT = 512 * 1024;

function refusal(data: unknown): string {
  try {
    checkPayload('save', data, LIMIT);
  } catch (err) {
    assert.ok(err instanceof InvalidPayloadError, String(err));
    return err.message;
  }
  assert.fail(`${String(data)} was accepted`);
}

describe('payloads JSON would change silently', () => {
  const refused: [name: string, data: unknown, message: RegExp][] = [
    ['a Map', { tags: new Map([['a', 1]]) }, /^Cannot enqueue job `save`: \$\.tags is a Map, /],
    ['a Set', { ids: [1, new Set([2])] }, /\$\.ids\[1\] is a Set, /],
    ['a WeakMap', { cache: new WeakMap() }, /\$\.cache is a WeakMap, which JSON cannot carry/],
    ['a WeakSet', new WeakSet(), /\$ is a WeakSet/],
    ['a Promise', { later: Promise.resolve(1) }, /\$\.later is a Promise/],
    ['a RegExp', { pattern: /a+/g }, /\$\.pattern is a RegExp/],
    ['an Error', { cause: new TypeError('x') }, /\$\.cause is an Error/],
    ['a typed array', { bytes: new Uint8Array([1, 2]) }, /\$\.bytes is a Uint8Array, /],
    ['an ArrayBuffer', { raw: new ArrayBuffer(2) }, /\$\.raw is an ArrayBuffer, /],
    ['a Map deep inside', { a: { b: [{ c: new Map() }] } }, /\$\.a\.b\[0\]\.c is a Map/],
  ];
  for (const [name, data, message] of refused) {
    it(`refuses ${name}, naming its path`, () => {
      assert.match(refusal(data), message);
    });
  }

  it('accepts Date, Buffer and objects with their own toJSON, and plain data', () => {
    const custom = { toJSON: () => ({ kind: 'custom' }) };
    const json = checkPayload(
      'save',
      { at: new Date(0), file: Buffer.from('hi'), custom, list: [1, 'a', null], n: 1.5 },
      LIMIT,
    );
    assert.deepEqual(JSON.parse(json), {
      at: '1970-01-01T00:00:00.000Z',
      file: { type: 'Buffer', data: [104, 105] },
      custom: { kind: 'custom' },
      list: [1, 'a', null],
      n: 1.5,
    });
  });
});
