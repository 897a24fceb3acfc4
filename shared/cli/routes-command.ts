// `queuewatch routes test key=value ...`: which rule a case with those attributes falls under and
// which audiences it reaches at each level, like `amtool config routes test`; with --expect, a CI
// check that fails (exit 1) when the audiences differ from the expected ones.

import type { CaseKey, CompiledConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { LEVELS, type Level } from '../config/schema.ts';
import { isOpenStage, RISK_LEVELS, STAGES, type Stage } from '../domain/case.ts';
import { EXIT, print, UsageError } from './output.ts';

/** The case attributes a test names, and `level` to show one level only. */
export const ROUTE_TEST_KEYS = [
  'category',
  'riskLevel',
  'stage',
  'childrenInvolved',
  'district',
  'level',
] as const;
type AttributeKey = Exclude<(typeof ROUTE_TEST_KEYS)[number], 'level'>;

export interface RouteTest {
  case: CaseKey;
  localAuthority: string;
  rule: { id: string; warn: string; breach: string; escalate: string };
  levels: Array<{ level: Level; audiences: readonly string[]; routes: number[]; fallback: boolean }>;
  /** The absolute ceiling, which applies on top of the case's own rule. */
  ceiling?: {
    rule: { id: string; warn: string; breach: string; escalate: string };
    levels: Array<{ level: Level; audiences: readonly string[]; routes: number[]; fallback: boolean }>;
  };
  /** Values taken for attributes not given, as key=value. */
  assumed: string[];
  /** Attributes not given that no rule or route matches on: any value gives the same answer. */
  unused: string[];
}

/** The attributes some rule or route matches on (a route's localAuthority is the district's). */
export function keysInUse(config: CompiledConfig): Set<AttributeKey> {
  const used = new Set<AttributeKey>();
  const add = (match: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(match)) {
      if (value === undefined) continue;
      if (key === 'localAuthority') used.add('district');
      else if (key !== 'rule' && key !== 'level') used.add(key as AttributeKey);
    }
  };
  for (const rule of config.file.rules) add(rule.match);
  for (const route of config.file.routes) add(route.match);
  return used;
}

export function testRoutes(config: CompiledConfig, pairs: string[]): RouteTest {
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const [key, ...rest] = pair.split('=');
    const value = rest.join('=');
    if (!key || rest.length === 0 || value === '') throw new UsageError(`'${pair}' is not key=value`);
    if (!(ROUTE_TEST_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`unknown key '${key}' (use ${ROUTE_TEST_KEYS.join(', ')})`);
    }
    given.set(key, value);
  }
  const used = keysInUse(config);
  // Stage and children have a usual value to assume; a category, risk level or district that
  // rules or routes tell apart must be given. An attribute nothing matches on takes any value.
  const usual: Partial<Record<AttributeKey, string>> = {
    stage: 'awaiting-risk-assessment',
    childrenInvolved: 'false',
  };
  const anyValue: Record<AttributeKey, string> = {
    category: config.file.categories[0] ?? '',
    riskLevel: RISK_LEVELS[0],
    stage: usual.stage as string,
    childrenInvolved: 'false',
    district: Object.keys(config.file.districts)[0] ?? '',
  };
  const attributes: AttributeKey[] = ['category', 'riskLevel', 'stage', 'childrenInvolved', 'district'];
  const missing = attributes.filter((k) => !given.has(k) && used.has(k) && usual[k] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `missing ${missing.map((k) => `${k}=...`).join(' ')}: rules or routes tell cases apart by ${missing.length === 1 ? 'it' : 'them'}`,
    );
  }
  const assumed: string[] = [];
  const unused = attributes.filter((k) => !used.has(k) && !given.has(k));
  const take = (key: AttributeKey): string => {
    const value = given.get(key);
    if (value !== undefined) return value;
    const fallback = used.has(key) ? (usual[key] as string) : anyValue[key];
    if (used.has(key)) assumed.push(`${key}=${fallback}`);
    return fallback;
  };
  const category = take('category');
  if (!config.file.categories.includes(category)) {
    throw new UsageError(`unknown category '${category}' (known: ${config.file.categories.join(', ')})`);
  }
  const riskLevel = take('riskLevel');
  if (!(RISK_LEVELS as readonly string[]).includes(riskLevel)) {
    throw new UsageError(`riskLevel must be one of ${RISK_LEVELS.join(', ')}`);
  }
  const stage = take('stage');
  if (!(STAGES as readonly string[]).includes(stage))
    throw new UsageError(`stage must be one of ${STAGES.join(', ')}`);
  if (!isOpenStage(stage as Stage)) throw new UsageError(`stage '${stage}' is not open: it raises nothing`);
  const children = take('childrenInvolved');
  if (children !== 'true' && children !== 'false')
    throw new UsageError('childrenInvolved must be true or false');
  const district = take('district');
  if (!config.file.districts[district]) {
    throw new UsageError(
      `unknown district '${district}' (known: ${Object.keys(config.file.districts).join(', ')})`,
    );
  }
  const levelFilter = given.get('level');
  if (levelFilter !== undefined && !(LEVELS as readonly string[]).includes(levelFilter)) {
    throw new UsageError(`level must be one of ${LEVELS.join(', ')}`);
  }
  const key: CaseKey = {
    category,
    riskLevel: riskLevel as CaseKey['riskLevel'],
    stage: stage as Stage,
    childrenInvolved: children === 'true',
    district,
  };
  const levels = LEVELS.filter((l) => levelFilter === undefined || l === levelFilter);
  const rule = config.ruleFor(key);
  if (!rule) throw new UsageError('no rule matches (the config has no catch-all?)');
  return {
    case: key,
    localAuthority: config.localAuthorityOf(district),
    rule: { id: rule.id, warn: rule.warn.text, breach: rule.breach.text, escalate: rule.escalate.text },
    levels: levels.map((level) => {
      const routes = config.matchingRoutes(key, level);
      return { level, audiences: config.audiencesFor(key, level), routes, fallback: routes.length === 0 };
    }),
    ...(rule === config.ceiling
      ? {}
      : {
          ceiling: {
            rule: {
              id: config.ceiling.id,
              warn: config.ceiling.warn.text,
              breach: config.ceiling.breach.text,
              escalate: config.ceiling.escalate.text,
            },
            levels: levels.map((level) => {
              const routes = config.matchingCeilingRoutes(key, level);
              return {
                level,
                audiences: config.ceilingAudiencesFor(key, level),
                routes,
                fallback: routes.length === 0,
              };
            }),
          },
        }),
    assumed,
    unused,
  };
}

export interface Expectation {
  /** Undefined: every level the test shows. */
  level?: Level;
  audiences: string[];
}

/** `[LEVEL=]AUDIENCE,...`, as given to --expect. */
export function parseExpectation(text: string, config: CompiledConfig): Expectation {
  const [head, ...rest] = text.split('=');
  const level = rest.length > 0 ? head : undefined;
  const list = rest.length > 0 ? rest.join('=') : (head ?? '');
  if (level !== undefined && !(LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--expect '${text}': the level must be one of ${LEVELS.join(', ')}`);
  }
  const audiences = list
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (audiences.length === 0) throw new UsageError(`--expect '${text}': name at least one audience`);
  const unknown = audiences.filter((a) => !(a in config.file.audiences));
  if (unknown.length > 0) {
    throw new UsageError(
      `--expect '${text}': unknown audience ${unknown.map((a) => `'${a}'`).join(', ')} (known: ${Object.keys(config.file.audiences).join(', ')})`,
    );
  }
  return { ...(level !== undefined ? { level: level as Level } : {}), audiences };
}

/** One line per expectation that does not hold: what was expected, what the config gives. */
export function unmetExpectations(
  result: RouteTest,
  expectations: readonly Expectation[],
  expectedRule: string | undefined,
): string[] {
  const failures: string[] = [];
  if (expectedRule !== undefined && result.rule.id !== expectedRule) {
    failures.push(`rule: expected ${expectedRule}, got ${result.rule.id}`);
  }
  for (const expectation of expectations) {
    const levels = result.levels.filter(
      (l) => expectation.level === undefined || l.level === expectation.level,
    );
    if (levels.length === 0) {
      failures.push(`${expectation.level}: not tested (the level=... given leaves it out)`);
    }
    for (const l of levels) {
      const want = new Set(expectation.audiences);
      const got = new Set(l.audiences);
      const missing = [...want].filter((a) => !got.has(a));
      const extra = [...got].filter((a) => !want.has(a));
      if (missing.length === 0 && extra.length === 0) continue;
      failures.push(
        `${l.level}: expected ${[...want].join(', ')}; got ${[...got].join(', ')}${missing.length > 0 ? ` (missing ${missing.join(', ')})` : ''}${extra.length > 0 ? ` (unexpected ${extra.join(', ')})` : ''}`,
      );
    }
  }
  return failures;
}

export interface RoutesTestOptions {
  config?: string;
  json?: boolean;
  expect?: string[];
  expectRule?: string;
}

/** Prints the test; the exit status is 1 when an expectation does not hold. */
export function routesTestCommand(pairs: string[], options: RoutesTestOptions): number {
  const config = loadConfig(options.config);
  const expectations = (options.expect ?? []).map((e) => parseExpectation(e, config));
  const result = testRoutes(config, pairs);
  const failures = unmetExpectations(result, expectations, options.expectRule);
  if (options.json) print(JSON.stringify({ ...result, unmet: failures }, null, 2));
  else printRouteTest(result);
  if (failures.length > 0) {
    process.stderr.write(
      `queuewatch: routes differ from the expected:\n${failures.map((f) => `  ${f}`).join('\n')}\n`,
    );
    return EXIT.failed;
  }
  if (expectations.length > 0 || options.expectRule !== undefined) {
    if (!options.json) print('as expected');
  }
  return EXIT.ok;
}

function printRouteTest(result: RouteTest): void {
  const c = result.case;
  print(
    `case: category=${c.category} riskLevel=${c.riskLevel} stage=${c.stage} childrenInvolved=${c.childrenInvolved} district=${c.district} (local authority ${result.localAuthority})`,
  );
  if (result.assumed.length > 0) print(`assumed: ${result.assumed.join(' ')}`);
  if (result.unused.length > 0) {
    print(
      `not needed: ${result.unused.join(', ')} (no rule or route matches on it, so any value gives the same answer)`,
    );
  }
  print(
    `rule: ${result.rule.id} (warn ${result.rule.warn}, breach ${result.rule.breach}, escalate ${result.rule.escalate})`,
  );
  const printLevels = (levels: RouteTest['levels']) => {
    for (const l of levels) {
      const via = l.fallback ? 'fallback audience: no route matched' : `routes ${l.routes.join(', ')}`;
      print(`  ${l.level.padEnd(10)} -> ${l.audiences.join(', ')}  (${via})`);
    }
  };
  printLevels(result.levels);
  if (result.ceiling) {
    const r = result.ceiling.rule;
    print(
      `and the absolute ceiling, for every open case: ${r.id} (warn ${r.warn}, breach ${r.breach}, escalate ${r.escalate})`,
    );
    printLevels(result.ceiling.levels);
  }
}
