// `queuewatch routes test key=value ...`: which rule a case with those attributes falls under, which
// audiences it reaches at each level (like `amtool config routes test`), and when each of them hears
// again (reminders, quiet hours, SMS); with --expect, a CI check that fails (exit 1) when the
// audiences differ from the expected ones.

import type { CaseKey, CompiledConfig } from '../config/compile.ts';
import { maskContacts } from '../config/contacts.ts';
import { loadConfig } from '../config/load.ts';
import { approximateMs, type Scope } from '../config/policy.ts';
import { isAcceptedValue, isOpenStage, RISK_LEVELS, STAGES, type Stage } from '../domain/case.ts';
import { LEVELS, type Level } from '../domain/levels.ts';
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
  /** When each audience the case reaches hears of it again, in the order they first appear. */
  policies: AudienceTiming[];
  /** How long an acknowledgement pauses an audience's reminders, per level shown. */
  acknowledgePause: Partial<Record<Level, string>>;
  /** Values taken for attributes not given, as key=value. */
  assumed: string[];
  /** Attributes not given that no rule or route matches on: any value gives the same answer. */
  unused: string[];
}

/** An audience's reminders, quiet hours and SMS, for the levels at which this case reaches it. */
export interface AudienceTiming {
  audience: string;
  scope: Scope;
  /** Where it hears of this case (a district, local authority or 'force'); undefined when the
   * district was not given (nothing matches on it, so the answer holds in every district). */
  place: string | undefined;
  placeName: string | undefined;
  /** The levels at which this case reaches the audience (its own rule's or the ceiling's). */
  levels: Level[];
  /** The reminder interval at each of those levels while a case waits unacknowledged, or 'never'
   * (sent once, when the case reaches it). */
  repeat: Partial<Record<Level, string>>;
  /** The levels of those whose news or reminders go by SMS (and email); the rest by email only. */
  sms: Level[];
  emailOnly: Level[];
  /** London times between which its reminders and new warnings wait; null: no quiet hours. For
   * this case: the levels whose reminders wait, whether a new warning waits, and the levels whose
   * news still goes at once. */
  quietHours: {
    from: string;
    to: string;
    remindersWait: Level[];
    newWarningsWait: boolean;
    newAtOnce: Level[];
  } | null;
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
    if (!key || rest.length === 0 || value === '')
      throw new UsageError(`'${maskContacts(pair)}' is not key=value`);
    if (!(ROUTE_TEST_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`unknown key '${maskContacts(key)}' (use ${ROUTE_TEST_KEYS.join(', ')})`);
    }
    if (given.has(key)) throw new UsageError(`${key} is given twice: give each attribute once`);
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
  // Each value is checked by the case schema's own rule (isAcceptedValue), as a case record's
  // would be; only the messages are the command's, naming what may be given instead.
  const accepted = (field: AttributeKey, value: unknown) => isAcceptedValue(field, value, config.vocabulary);
  const category = take('category');
  if (!accepted('category', category)) {
    throw new UsageError(
      `unknown category '${maskContacts(category)}' (known: ${config.file.categories.join(', ')})`,
    );
  }
  const riskLevel = take('riskLevel');
  if (!accepted('riskLevel', riskLevel))
    throw new UsageError(`riskLevel must be one of ${RISK_LEVELS.join(', ')}`);
  const stage = take('stage');
  if (!accepted('stage', stage)) throw new UsageError(`stage must be one of ${STAGES.join(', ')}`);
  if (!isOpenStage(stage as Stage)) throw new UsageError(`stage '${stage}' is not open: it raises nothing`);
  const children = take('childrenInvolved');
  if (!accepted('childrenInvolved', children === 'true' ? true : children === 'false' ? false : children))
    throw new UsageError('childrenInvolved must be true or false');
  const district = take('district');
  if (!accepted('district', district)) {
    throw new UsageError(
      `unknown district '${maskContacts(district)}' (known: ${Object.keys(config.file.districts).join(', ')})`,
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
  const ownLevels = levels.map((level) => {
    const routes = config.matchingRoutes(key, level);
    return { level, audiences: config.audiencesFor(key, level), routes, fallback: routes.length === 0 };
  });
  const ceilingLevels =
    rule === config.ceiling
      ? undefined
      : levels.map((level) => {
          const routes = config.matchingCeilingRoutes(key, level);
          return {
            level,
            audiences: config.ceilingAudiencesFor(key, level),
            routes,
            fallback: routes.length === 0,
          };
        });
  const districtKnown = given.has('district') || used.has('district');
  const pause = config.file.acknowledge.pause;
  return {
    case: key,
    localAuthority: config.localAuthorityOf(district),
    rule: { id: rule.id, warn: rule.warn.text, breach: rule.breach.text, escalate: rule.escalate.text },
    levels: ownLevels,
    ...(ceilingLevels
      ? {
          ceiling: {
            rule: {
              id: config.ceiling.id,
              warn: config.ceiling.warn.text,
              breach: config.ceiling.breach.text,
              escalate: config.ceiling.escalate.text,
            },
            levels: ceilingLevels,
          },
        }
      : {}),
    policies: audienceTimings(
      config,
      [...ownLevels, ...(ceilingLevels ?? [])],
      districtKnown ? district : undefined,
    ),
    acknowledgePause: Object.fromEntries(
      levels.map((level) => [level, pause[level] ?? DEFAULT_ACK_PAUSE[level]]),
    ) as Partial<Record<Level, string>>,
    assumed,
    unused,
  };
}

/** The shipped pause lengths, where the config names none (as the policy compiler applies them). */
const DEFAULT_ACK_PAUSE: Record<Level, string> = { warning: '24h', breach: '8h', escalation: '4h' };

/** Each audience reached at some level (by the case's own rule or the ceiling), with its policy for
 * those levels. Quiet hours hold reminders and new warnings; a new breach or escalation goes at
 * once (decide.ts), so what they hold depends on the levels this case reaches the audience at. */
function audienceTimings(
  config: CompiledConfig,
  reached: ReadonlyArray<{ level: Level; audiences: readonly string[] }>,
  district: string | undefined,
): AudienceTiming[] {
  const levelsOf = new Map<string, Set<Level>>();
  for (const { level, audiences } of reached) {
    for (const audience of audiences)
      levelsOf.set(audience, (levelsOf.get(audience) ?? new Set()).add(level));
  }
  return [...levelsOf].map(([audience, levelSet]) => {
    const policy = config.policy(audience);
    const levels = LEVELS.filter((l) => levelSet.has(l));
    const reminded = levels.filter((l) => Number.isFinite(approximateMs(policy.repeat[l])));
    const place = district === undefined ? undefined : config.placeOf(audience, district);
    const quiet = config.file.audiences[audience]?.quietHours;
    return {
      audience,
      scope: policy.scope,
      place,
      placeName: place === undefined ? undefined : config.placeName(audience, place),
      levels,
      repeat: Object.fromEntries(levels.map((l) => [l, policy.repeat[l].text])) as Partial<
        Record<Level, string>
      >,
      sms: levels.filter((l) => policy.smsFor.has(l)),
      emailOnly: levels.filter((l) => !policy.smsFor.has(l)),
      quietHours: quiet
        ? {
            from: quiet.from,
            to: quiet.to,
            remindersWait: reminded,
            newWarningsWait: levels.includes('warning'),
            newAtOnce: levels.filter((l) => l !== 'warning'),
          }
        : null,
    };
  });
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
    throw new UsageError(`--expect '${maskContacts(text)}': the level must be one of ${LEVELS.join(', ')}`);
  }
  const audiences = list
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (audiences.length === 0)
    throw new UsageError(`--expect '${maskContacts(text)}': name at least one audience`);
  const unknown = audiences.filter((a) => !(a in config.file.audiences));
  if (unknown.length > 0) {
    throw new UsageError(
      `--expect '${maskContacts(text)}': unknown audience ${unknown.map((a) => `'${maskContacts(a)}'`).join(', ')} (known: ${Object.keys(config.file.audiences).join(', ')})`,
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
  if (options.expectRule !== undefined && !config.rules.some((r) => r.id === options.expectRule)) {
    throw new UsageError(
      `--expect-rule ${options.expectRule}: the config has no such rule (its rules: ${config.rules.map((r) => r.id).join(', ')})`,
    );
  }
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
  if (result.policies.length === 0) return;
  print('when each audience hears (reminders are for cases nobody has acknowledged; London time):');
  for (const p of result.policies) {
    const where = p.placeName !== undefined ? ` at ${p.placeName}` : ` (${SCOPE_TEXT[p.scope]})`;
    print(`  ${p.audience}${where}`);
    for (const level of p.levels) {
      const every = p.repeat[level];
      const repeat = every === 'never' ? 'sent once, no reminders' : `reminded every ${every}`;
      const channel = p.sms.includes(level) ? 'SMS and email' : 'email only';
      print(`    ${`${level}:`.padEnd(12)}${repeat} (${channel})`);
    }
    print(`    ${quietText(p.quietHours)}`);
  }
  const pause = LEVELS.filter((l) => result.acknowledgePause[l] !== undefined)
    .map((l) => `${result.acknowledgePause[l]} at ${l}`)
    .join(', ');
  print(
    `acknowledging a message pauses its cases' reminders to that audience and place for ${pause}; a case reaching a new level is still sent at once`,
  );
}

const SCOPE_TEXT: Record<Scope, string> = {
  district: 'in each district',
  'local-authority': 'in each local authority',
  force: 'force-wide',
};

function quietText(quiet: AudienceTiming['quietHours']): string {
  if (quiet === null) return 'quiet hours: none (day and night alike)';
  const window = `quiet hours ${quiet.from} to ${quiet.to}`;
  const holds = [
    ...(quiet.remindersWait.length > 0 ? [`reminders (${quiet.remindersWait.join(', ')})`] : []),
    ...(quiet.newWarningsWait ? ['new warnings'] : []),
  ];
  if (holds.length === 0) return `${window}: nothing of this case waits (no reminders, no warnings)`;
  const atOnce =
    quiet.newAtOnce.length > 0 ? `; a new ${quiet.newAtOnce.join(' or ')} still goes at once` : '';
  return `${window}: ${holds.join(' and ')} wait until ${quiet.to}${atOnce}`;
}
