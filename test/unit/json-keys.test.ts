// Where keys and list items start in a JSON text, and keys given twice: strings holding brackets,
// commas and escaped quotes must not move either.

import { describe, expect, it } from 'vitest';
import { jsonLines, repeatedKeys } from '#shared/domain/json-keys.ts';

const text = [
  '{',
  '  "a": "x, ] } \\" [ {",',
  '  "list": [',
  '    1,',
  '    { "k": "v",',
  '      "k": [',
  '        "p,q",',
  '        "r"',
  '      ] },',
  '    []',
  '  ],',
  '  "a": {}',
  '}',
].join('\n');

describe('jsonLines', () => {
  const lineOf = jsonLines(text);

  it('gives the line each key and list item starts on', () => {
    expect(lineOf('list')).toBe(3);
    expect(lineOf('list[0]')).toBe(4);
    expect(lineOf('list[1]')).toBe(5);
    expect(lineOf('list[1].k[1]')).toBe(8);
    expect(lineOf('list[2]')).toBe(10);
  });

  it('places a key given twice where JSON.parse takes it from, its last place', () => {
    expect(lineOf('a')).toBe(12);
    expect(lineOf('list[1].k')).toBe(6);
  });

  it('gives a key the text leaves out the line of the nearest entry holding it', () => {
    expect(lineOf('list[1].missing')).toBe(5);
    expect(lineOf('list[7]')).toBe(3);
    expect(lineOf('nothing.here')).toBeUndefined();
  });
});

describe('repeatedKeys', () => {
  it('finds each key given twice in one object, by the path of the object', () => {
    expect(repeatedKeys(text)).toEqual([
      { path: ['list', 1], key: 'k' },
      { path: [], key: 'a' },
    ]);
  });

  it('skips containers deeper than its limit', () => {
    const deep = `${'['.repeat(5)}{"k":1,"k":2}${']'.repeat(5)}`;
    expect(repeatedKeys(deep, 3)).toEqual([]);
    expect(repeatedKeys(deep, 32)).toEqual([{ path: [0, 0, 0, 0, 0], key: 'k' }]);
  });
});
