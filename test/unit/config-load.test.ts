// The admin config parser turns every failure into a ConfigError with a message, whatever the text:
// the runtime keeps its last good config only on a ConfigError.

import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '#shared/config/compile.ts';
import { parseConfig } from '#shared/config/load.ts';
import { configTextWith, defaultConfigText } from '#test/support/fixtures.ts';

/** The issues a config text raises; fails the test if it compiles or throws anything else. */
function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  }
  throw new Error('expected the config to be rejected');
}

const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

const REQUIRED =
  'version, force, linkBase, categories, localAuthorities, districts, repeat, rules, audiences, routes, fallbackAudience';

describe('parseConfig on hostile or empty input', () => {
  it.each([
    ['an empty file', ''],
    ['only comments', '# nothing here yet\n'],
    ['an explicit null', 'null\n'],
  ])('says what is missing from %s', (_name, text) => {
    expect(issuesOf(text)).toEqual([
      { path: '', message: `test.yaml is empty: a config is a mapping of keys, and needs ${REQUIRED}` },
    ]);
  });

  it.each([
    ['a list', '- version: 1\n', 'is a list'],
    ['a number', '42\n', 'is a single value'],
    ['a string', 'queuewatch\n', 'is a single value'],
  ])('refuses a document that is %s', (_name, text, found) => {
    expect(issuesOf(text)).toEqual([
      { path: '', message: `test.yaml ${found}: a config is a mapping of keys, and needs ${REQUIRED}` },
    ]);
  });

  it('refuses a YAML alias bomb with a ConfigError, not the library’s own error', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const [prev, name] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }

    expect(issuesOf(levels.join('\n'))).toEqual([
      { path: '', message: 'test.yaml expands too many YAML aliases (*name); write the values out' },
    ]);
  });

  it.each([
    ['flow sequences', `${'['.repeat(5_000)}${']'.repeat(5_000)}`],
    ['flow mappings', `a: ${'{b: '.repeat(5_000)}1${'}'.repeat(5_000)}`],
  ])('refuses input nested too deeply to read (%s)', (_name, text) => {
    const issues = issuesOf(text);

    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(
      /^test\.yaml( line \d+)?: nested too deeply to read \(RESOURCE_EXHAUSTION\)$/,
    );
  });

  it('refuses a config nested deeper than any real one, naming where', () => {
    const text = `${defaultConfigText()}\nextra: ${'{a: '.repeat(40)}1${'}'.repeat(40)}\n`;

    const issues = issuesOf(text);

    expect(issues).toEqual([
      {
        path: `extra${'.a'.repeat(32)}`,
        message: `is nested more than 32 levels deep (test.yaml line ${lineOf(text, 'extra:')})`,
      },
    ]);
  });

  it.each([
    [
      'districts',
      '  D01: { name: Northgate, localAuthority: la-northgate }',
      '  __proto__: { name: Nowhere, localAuthority: la-northgate }',
    ],
    ['localAuthorities', 'localAuthorities:', 'localAuthorities:\n  constructor: { name: Nowhere }'],
    ['audiences', 'audiences:', 'audiences:\n  prototype: { scope: force, description: x }'],
  ])('refuses a forbidden key in %s, naming the key path and line', (map, anchor, line) => {
    const key = /(__proto__|constructor|prototype)/.exec(line)?.[1] as string;
    const text = configTextWith([anchor, anchor.startsWith('  D01') ? `${anchor}\n${line}` : line]);

    expect(issuesOf(text)).toEqual([
      {
        path: `${map}.${key}`,
        message: `the key ${key} is not allowed (test.yaml line ${lineOf(text, `${key}:`)})`,
      },
    ]);
  });

  it('refuses a forbidden key nested in a rule', () => {
    const text = configTextWith(['    warn: 72h\n', '    warn: 72h\n    __proto__: { warn: 1m }\n']);

    expect(issuesOf(text)).toEqual([
      {
        path: expect.stringMatching(/^rules\[\d+\] \([a-z-]+\)\.__proto__$/),
        message: `the key __proto__ is not allowed (test.yaml line ${lineOf(text, '__proto__')})`,
      },
    ]);
  });

  it('turns binary noise into a ConfigError', () => {
    const noise = Array.from({ length: 2000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');

    expect(issuesOf(noise).length).toBeGreaterThan(0);
  });
});
