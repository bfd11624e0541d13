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

  // The check walks a payload once without naming paths and names one only for a refusal; past
  // 32 levels it leaves the payload to the naming walk, which also finds cycles.
  const nested = (depth: number, leaf: unknown): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = { next: value };
    return value;
  };

  it('names what is refused deep down, and accepts deep plain data', () => {
    assert.match(refusal(nested(40, new Set())), /\$(\.next){40} is a Set/);
    assert.match(refusal(nested(5, () => 1)), /\$(\.next){5} is a function/);
    assert.match(refusal([1, Number.NaN]), /\$\[1\] is NaN/);
    assert.equal(checkPayload('save', nested(60, 'end'), LIMIT), JSON.stringify(nested(60, 'end')));
  });

  it("refuses a cycle, shallow or past the first walk's depth", () => {
    const shallow: Record<string, unknown> = {};
    shallow.self = shallow;
    assert.match(refusal(shallow), /\$\.self refers back to itself/);
    const deep = { a: 1 } as Record<string, unknown>;
    deep.loop = nested(35, deep);
    assert.match(refusal(deep), /\$\.loop(\.next){35} refers back to itself/);
  });

  it('checks the kind of objects that are not plain (a class of your own passes)', () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    class Tags extends Map<string, number> {}
    const bare = Object.assign(Object.create(null) as object, { tags: new Tags() });
    assert.equal(checkPayload('save', { m: new Money(5) }, LIMIT), '{"m":{"cents":5}}');
    assert.match(refusal({ t: new Tags() }), /\$\.t is a Map/);
    assert.match(refusal(bare), /\$\.tags is a Map/);
  });
});
