// The config as the deployed functions read it: JSON only, with every check the YAML reader makes,
// and the repeated keys JSON.parse would let through without a word.

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { shippedConfigFile } from '#shared/adapters/config-source.ts';
import { ConfigError, type ConfigIssue } from '#shared/config/compile.ts';
import { duplicateKeys, parseConfigJson } from '#shared/config/json.ts';
import { configFileJson, configJson, DEFAULT_CONFIG_PATH, loadConfig } from '#shared/config/load.ts';
import { configTextOf, MAX_CONFIG_TEXT_BYTES, storedConfigValue } from '#shared/config/stored.ts';
import { configTextWith, shippedConfigJsonPath } from '#test/support/fixtures.ts';

/** The issues a JSON text raises; fails the test if it compiles or throws anything else. */
function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfigJson(text, 'test.json');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  }
  throw new Error('expected the config to be rejected');
}

/** The shipped config's JSON with `edit` applied to the parsed value, written back as JSON. */
const shippedJsonWith = (edit: (config: Record<string, unknown>) => void): string => {
  const config = JSON.parse(configFileJson()) as Record<string, unknown>;
  edit(config);
  return JSON.stringify(config);
};

/** Inserts `member` (`"key": value`) as the first member of the object after `anchor`. */
const withMember = (json: string, anchor: string, member: string): string => {
  const at = json.indexOf(anchor);
  if (at < 0) throw new Error(`no ${anchor} in the shipped JSON`);
  const brace = json.indexOf('{', at + anchor.length - 1);
  return `${json.slice(0, brace + 1)}${member},${json.slice(brace + 1)}`;
};

describe('parseConfigJson', () => {
  it('reads the shipped config’s JSON as the same config its YAML is', () => {
    const fromJson = parseConfigJson(configFileJson(), 'queuewatch.json');

    expect(fromJson.file).toEqual(loadConfig().file);
    expect(fromJson.rules.map((r) => r.id)).toEqual(loadConfig().rules.map((r) => r.id));
  });

  it('refuses a key given twice at the top level, naming it', () => {
    const json = configFileJson();
    const text = `{"linkBase":"https://elsewhere.example.org",${json.slice(1)}`;

    expect(issuesOf(text)).toEqual([
      { path: 'linkBase', message: 'the key linkBase is given more than once (only one value can count)' },
    ]);
  });

  it('refuses a district given twice, naming its path', () => {
    const text = withMember(
      configFileJson(),
      '"districts":{',
      '"D01":{"name":"Elsewhere","localAuthority":"x"}',
    );

    expect(issuesOf(text)).toEqual([
      { path: 'districts.D01', message: 'the key D01 is given more than once (only one value can count)' },
    ]);
  });

  it('names a repeated key inside a rule by the rule’s id', () => {
    const json = configFileJson();
    const ruleAt = json.indexOf('{', json.indexOf('"rules":['));
    const id = /"id":"([a-z0-9-]+)"/.exec(json.slice(ruleAt))?.[1];
    const text = `${json.slice(0, ruleAt + 1)}"warn":"1m",${json.slice(ruleAt + 1)}`;

    expect(issuesOf(text)).toEqual([
      {
        path: `rules[0] (${id}).warn`,
        message: 'the key warn is given more than once (only one value can count)',
      },
    ]);
  });

  it.each([
    ['__proto__', '"__proto__":{"name":"Nowhere","localAuthority":"la-northgate"}'],
    ['__proto__', '"\\u005f_proto__":{"name":"Nowhere","localAuthority":"la-northgate"}'],
    ['constructor', '"constructor":{"name":"Nowhere","localAuthority":"la-northgate"}'],
  ])('refuses the forbidden key %s in districts, however it is written', (key, member) => {
    const text = withMember(configFileJson(), '"districts":{', member);

    expect(issuesOf(text)).toEqual([{ path: `districts.${key}`, message: `the key ${key} is not allowed` }]);
  });

  it('refuses a config nested deeper than any real one, naming where', () => {
    const text = withMember(configFileJson(), '{', `"extra":${'{"a":'.repeat(40)}1${'}'.repeat(40)}`);

    expect(issuesOf(text)).toEqual([
      { path: `extra${'.a'.repeat(32)}`, message: 'is nested more than 32 levels deep' },
    ]);
  });

  it('refuses a value of the wrong kind, naming its path', () => {
    const text = shippedJsonWith((config) => {
      config.sms = { maxPerRun: 'twenty' };
    });

    expect(issuesOf(text)).toEqual([{ path: 'sms.maxPerRun', message: expect.any(String) }]);
  });

  it('gives zod’s English messages in a process that loads only what a function loads', () => {
    // Here, other modules load zod's classic build, which sets English messages for itself; a
    // function loads the mini build alone, and shared/domain/zod.ts sets them. Without that, the
    // message would be zod's bare "Invalid input".
    const script = `
      import { parseConfigJson } from '#shared/config/json.ts';
      const config = JSON.parse(${JSON.stringify(configFileJson())});
      config.sms = { maxPerRun: 'twenty' };
      try { parseConfigJson(JSON.stringify(config), 'test.json'); } catch (error) {
        process.stdout.write(JSON.stringify(error.issues));
      }`;
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });

    expect(JSON.parse(stdout)).toEqual([
      { path: 'sms.maxPerRun', message: 'Invalid input: expected number, received string' },
    ]);
  });

  it('refuses YAML as not JSON, quoting none of the text', () => {
    const issues = issuesOf(configTextWith());

    expect(issues).toEqual([{ path: '', message: expect.stringMatching(/^test\.json.*: not valid JSON$/) }]);
    expect(issues[0]?.message).not.toContain('queuewatch admin config');
  });

  it('says where JSON breaks off, when the parser knows', () => {
    expect(issuesOf('{\n  "version": 1,\n}')).toEqual([
      { path: '', message: 'test.json line 3 column 1: not valid JSON' },
    ]);
  });

  it.each([
    ['an empty text', '', 'is empty'],
    ['null', 'null', 'is empty'],
    ['a list', '[1]', 'is a list'],
    ['a number', '42', 'is a single value'],
  ])('says what is wrong with %s', (_name, text, found) => {
    expect(issuesOf(text)[0]?.message).toMatch(new RegExp(`^test\\.json ${found}: a config is a mapping`));
  });

  it('turns binary noise into a ConfigError', () => {
    const noise = Array.from({ length: 2000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');

    expect(issuesOf(noise).length).toBeGreaterThan(0);
  });

  it('turns input nested far too deep into one issue, quickly', () => {
    const started = performance.now();
    const issues = issuesOf(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);

    expect(issues).toEqual([{ path: `a${'[0]'.repeat(32)}`, message: 'is nested more than 32 levels deep' }]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('configTextOf', () => {
  it('reads back a config stored compressed', () => {
    const json = JSON.stringify(JSON.parse(configFileJson()), null, 2);
    const stored = storedConfigValue(json);

    expect(stored.startsWith('gzip:')).toBe(true);
    expect(configTextOf(stored)).toBe(json);
  });

  it('refuses a value that unzips to more than any config, with a ConfigError, before it fills memory', () => {
    // 64 MB of spaces zip to about 64 KB; the cap stops the unzipping at 1 MB.
    const bomb = `gzip:${gzipSync(Buffer.alloc(64 << 20, 0x20), { level: 9 }).toString('base64')}`;

    let thrown: unknown;
    try {
      configTextOf(bomb);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toBe(
      `the stored config unzips to more than ${MAX_CONFIG_TEXT_BYTES / 1024} KB of JSON: not one \`config push\` wrote`,
    );
  });

  it('refuses a value that is not gzip at all as a config error, saying so', () => {
    expect(() => configTextOf('gzip:bm90IGd6aXA=')).toThrow(ConfigError);
    expect(() => configTextOf('gzip:bm90IGd6aXA=')).toThrow(
      'the stored value begins gzip: but its gzip data is damaged',
    );
  });
});

describe('duplicateKeys', () => {
  it('tells keys from values, and one object from another', () => {
    const text = '{"a":"a","b":{"a":1,"b":"\\"a\\""},"c":[{"a":1},{"a":2}],"d":"x\\\\","e":1}';

    expect(duplicateKeys(text)).toEqual([]);
  });

  it('finds every repeated key, in objects inside lists too', () => {
    const text = '{"list":[{"k":1},{"k":1,"k":2}],"top":1,"top":2}';

    expect(duplicateKeys(text).map((i) => i.path)).toEqual(['list[1].k', 'top']);
  });

  it('compares keys as JSON reads them, escapes decoded', () => {
    expect(duplicateKeys('{"D01":1,"\\u0044\\u00301":2}').map((i) => i.path)).toEqual(['D01']);
  });
});

describe('configJson', () => {
  it('refuses to turn a config that is not valid into JSON, naming the line', () => {
    const text = configTextWith(['maxPerRun: 20', 'maxPerRun: twenty']);

    expect(() => configJson(text, 'test.yaml')).toThrow(/sms\.maxPerRun: .*\(test\.yaml line \d+\)/);
  });
});

describe('shippedConfigFile', () => {
  it('reads the JSON the synth writes, and only when asked', () => {
    const load = shippedConfigFile(shippedConfigJsonPath());

    expect(load().file).toEqual(loadConfig().file);
  });

  it('names the missing variable when a function without DEFAULT_CONFIG_FILE needs its fallback', () => {
    const load = shippedConfigFile(undefined);

    expect(load).toThrow(/environment variable DEFAULT_CONFIG_FILE is not set/);
  });

  it('refuses a shipped YAML file: the functions read JSON only', () => {
    expect(shippedConfigFile(DEFAULT_CONFIG_PATH)).toThrow(ConfigError);
  });
});
