/**
 * The constructor-source reader behind `@QueueEntityId()` on constructor parameters, on the
 * shapes compilers and minifiers emit. Classes are built from source text with node:vm.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { constructorParameterField } from '../../src/nest/metadata/constructor-parameter.parser';

// `mix(...)` stands for a mixin call in an `extends` clause.
const field = (source: string, index: number) =>
  constructorParameterField(runInNewContext(`(${source})`, { mix: () => Object }) as object, index);

describe('constructorParameterField', () => {
  it('reads tsc output for parameter properties', () => {
    const src = `class A { accountId; amount; constructor(accountId, amount = 5) {
      this.accountId = accountId; this.amount = amount; } }`;
    assert.deepEqual(field(src, 0), { field: 'accountId' });
    assert.deepEqual(field(src, 1), { field: 'amount' });
  });

  it('reads minified output', () => {
    const src = 'class{constructor(e,t){this.accountId=e,this.amount=t}}';
    assert.deepEqual(field(src, 0), { field: 'accountId' });
    assert.deepEqual(field(src, 1), { field: 'amount' });
  });

  it('reads ES5 constructor functions, also with `_this`', () => {
    assert.deepEqual(field('function Acc(a, b) { this.accountId = a; this.amount = b; }', 1), {
      field: 'amount',
    });
    assert.deepEqual(
      field(
        'function Sub(id) { var _this = _super.call(this) || this; _this.subId = id; return _this; }',
        0,
      ),
      { field: 'subId' },
    );
  });

  it('skips heritage expressions, comments, strings, templates and other members', () => {
    const src = `class extends mix({ a: '{' }, [')']) {
      /* constructor(a) { this.bad = a } */
      static constructor(a) { this.bad = a }
      label = \`constructor(\${ { x: '}' }.x })\`;
      m() { return 'constructor(b) { this.bad = b }'; }
      constructor(a = \`\${ {x: 1}.x }\`, id) { super(); this.good = id; }
    }`;
    assert.deepEqual(field(src, 1), { field: 'good' });
  });

  it('takes rest parameters by name', () => {
    assert.deepEqual(field('class { constructor(...ids) { this.ids = ids } }', 0), {
      field: 'ids',
    });
  });

  it('explains what it cannot read', () => {
    const reason = (src: string, i = 0) => {
      const found = field(src, i);
      assert.ok('reason' in found, `expected no field for ${src}`);
      return found.reason;
    };
    assert.match(reason('class { constructor({ id }) { this.id = id } }'), /destructured/);
    assert.match(reason('class { constructor(id) { this.id = id.trim() } }'), /not stored/);
    assert.match(
      reason('class { constructor(id) { this.a = id; this.b = id } }'),
      /several fields \(a, b\)/,
    );
    assert.match(reason('class {}'), /constructor could not be found/);
    assert.match(reason('class { constructor(a) { this.a = a } }', 3), /has 1 parameter/);
  });
});
