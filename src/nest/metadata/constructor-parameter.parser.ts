/**
 * Finds the instance field a constructor parameter is stored in, from the class's source text.
 *
 * TypeScript drops parameter names from its decorator metadata, so for
 * `constructor(@QueueEntityId() public readonly accountId: string)` the decorator only learns
 * "parameter #0". Every compiler (tsc, SWC, esbuild, Babel) turns a parameter property into an
 * assignment `this.accountId = accountId` in the constructor, and minifiers keep the field name
 * (`this.accountId = e`), so we read the constructor's parameter list and body and take the field
 * the parameter is assigned to. Runs once per decorated class, at decoration time.
 */

/** The field found, or why none could be. */
export type ParameterFieldLookup = { field: string } | { reason: string };

const PAIRS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const IDENT = /^[A-Za-z_$][\w$]*/;

/** Index just past the string, template or comment starting at `i`; `i` when none starts there. */
function skipNonCode(src: string, i: number): number {
  const c = src[i];
  if (c === '/' && src[i + 1] === '/') {
    const end = src.indexOf('\n', i);
    return end < 0 ? src.length : end;
  }
  if (c === '/' && src[i + 1] === '*') {
    const end = src.indexOf('*/', i + 2);
    return end < 0 ? src.length : end + 2;
  }
  if (c === '"' || c === "'") {
    let j = i + 1;
    while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  if (c === '`') {
    let j = i + 1;
    while (j < src.length && src[j] !== '`') {
      if (src[j] === '\\') j += 2;
      else if (src[j] === '$' && src[j + 1] === '{') {
        const close = matchClose(src, j + 1);
        if (close < 0) return src.length;
        j = close + 1;
      } else j += 1;
    }
    return j + 1;
  }
  return i;
}

/** Index of the bracket closing the one at `open`, or -1 when unbalanced. */
function matchClose(src: string, open: number): number {
  const expected: string[] = [];
  let i = open;
  while (i < src.length) {
    const next = skipNonCode(src, i);
    if (next !== i) {
      i = next;
      continue;
    }
    const c = src[i];
    if (c in PAIRS) expected.push(PAIRS[c]);
    else if (c === ')' || c === ']' || c === '}') {
      if (expected.pop() !== c) return -1;
      if (expected.length === 0) return i;
    }
    i += 1;
  }
  return -1;
}

/** Splits `a, b = f(1, 2), {c}` at its top-level commas. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < list.length) {
    const next = skipNonCode(list, i);
    if (next !== i) {
      i = next;
      continue;
    }
    const c = list[i];
    if (c in PAIRS) {
      const close = matchClose(list, i);
      i = close < 0 ? list.length : close + 1;
      continue;
    }
    if (c === ',') {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
    i += 1;
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Index of the `(` opening the constructor's parameter list, or -1 when the class has none. */
function constructorParen(src: string): number {
  if (src.startsWith('function')) return src.indexOf('(');
  // Find the class body: the first `{` outside parentheses (`class A extends mixin(B) {`).
  let i = 0;
  let bodyOpen = -1;
  while (i < src.length && bodyOpen < 0) {
    const next = skipNonCode(src, i);
    if (next !== i) {
      i = next;
    } else if (src[i] === '(' || src[i] === '[') {
      const close = matchClose(src, i);
      if (close < 0) return -1;
      i = close + 1;
    } else if (src[i] === '{') {
      bodyOpen = i;
    } else {
      i += 1;
    }
  }
  const bodyClose = bodyOpen < 0 ? -1 : matchClose(src, bodyOpen);
  if (bodyClose < 0) return -1;
  // Walk the members at depth 1, jumping over every nested block, initializer and argument list.
  let previousWord = '';
  i = bodyOpen + 1;
  while (i < bodyClose) {
    const next = skipNonCode(src, i);
    if (next !== i) {
      i = next;
      continue;
    }
    const c = src[i];
    if (c in PAIRS) {
      const close = matchClose(src, i);
      if (close < 0) return -1;
      i = close + 1;
      previousWord = '';
      continue;
    }
    const word = IDENT.exec(src.slice(i, i + 64))?.[0];
    if (word) {
      const after = src.slice(i + word.length).trimStart();
      const dotted = src.slice(0, i).trimEnd().endsWith('.');
      if (word === 'constructor' && after.startsWith('(') && !dotted && previousWord !== 'static') {
        return src.indexOf('(', i + word.length);
      }
      previousWord = word;
      i += word.length;
      continue;
    }
    if (!/\s/.test(c)) previousWord = '';
    i += 1;
  }
  return -1;
}

const escapeRegExp = (s: string): string => s.replace(/[$]/g, '\\$&');

/** The field of `cls` that constructor parameter `index` is assigned to. */
export function constructorParameterField(cls: object, index: number): ParameterFieldLookup {
  const src = Function.prototype.toString.call(cls);
  const open = constructorParen(src);
  const close = open < 0 ? -1 : matchClose(src, open);
  if (close < 0) return { reason: 'its constructor could not be found in the class source' };
  const params = splitTopLevel(src.slice(open + 1, close));
  const param = params[index];
  if (param === undefined)
    return { reason: `the constructor source has ${params.length} parameter(s)` };
  const bare = param.replace(/^\.\.\./, '').trim();
  if (bare.startsWith('{') || bare.startsWith('['))
    return { reason: 'the parameter is destructured, so it has no name' };
  const name = IDENT.exec(bare)?.[0];
  if (!name) return { reason: `cannot read the parameter's name from \`${param}\`` };
  const bodyOpen = src.indexOf('{', close);
  const bodyClose = bodyOpen < 0 ? -1 : matchClose(src, bodyOpen);
  if (bodyClose < 0) return { reason: 'the constructor body could not be read' };
  const body = src.slice(bodyOpen + 1, bodyClose);
  const assignment = new RegExp(
    `(?<![\\w$.])(?:this|_this)\\s*\\.\\s*([A-Za-z_$][\\w$]*)\\s*=(?!=)\\s*${escapeRegExp(name)}(?![\\w$])(?!\\s*[.[(?=])`,
    'g',
  );
  const fields = new Set([...body.matchAll(assignment)].map((m) => m[1]));
  if (fields.size === 1) return { field: [...fields][0] };
  if (fields.size === 0)
    return {
      reason:
        `parameter \`${name}\` is not stored on the instance (no \`this.<field> = ${name}\`); ` +
        `make it a parameter property (\`public readonly ${name}\`)`,
    };
  return {
    reason: `parameter \`${name}\` is stored in several fields (${[...fields].join(', ')})`,
  };
}
