/**
 * `keyPrefix` takes what is safe in key names, Cluster hash tags and SCAN MATCH patterns, as
 * the docs say: letters, digits, `_`, `.`, `-` and `:`; never spaces, braces or glob characters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionsError } from '../../src';
import { resolveOptions } from '../../src/core/options/resolve-options';

const REDIS = 'redis://127.0.0.1:1';

describe('keyPrefix', () => {
  it('accepts letters, digits, `_`, `.`, `-` and `:`', () => {
    for (const keyPrefix of ['aq', 'my_app.v2', 'my-app', 'shop:prod', 'A9']) {
      assert.equal(resolveOptions({ redis: REDIS, keyPrefix }).keyPrefix, keyPrefix);
    }
  });

  it('refuses spaces, braces, glob characters and the empty string', () => {
    for (const keyPrefix of ['my app', '{app}', 'app*', 'a?b', 'a[b]', '', 'tab\t', 'é']) {
      assert.throws(
        () => resolveOptions({ redis: REDIS, keyPrefix }),
        (err: unknown) => err instanceof InvalidOptionsError && err.option === 'keyPrefix',
        JSON.stringify(keyPrefix),
      );
    }
  });
});
