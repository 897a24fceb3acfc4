// Turns a validated config file into what the engine runs on: parsed limits, a rule for every
// combination of case attributes (most specific match wins), and the audiences of every
// (rule, case, level). Checks what the schema alone cannot: unknown names, thresholds out of
// order, overlapping or unreachable rules, unreachable routes.

import { createWorkingCalendar, type WorkingCalendar } from '../domain/calendar.ts';
import { type CaseVocabulary, OPEN_STAGES, RISK_LEVELS, type RiskLevel, type Stage } from '../domain/case.ts';
import { type Limit, minimumMs, parseLimit } from '../domain/duration.ts';
import { LEVELS, type Level, rankOf } from '../domain/levels.ts';
import { type CompiledSignals, compileSignals } from './compile-signals.ts';
import { maskContacts } from './contacts.ts';
import { type AcknowledgePolicy, type AudiencePolicy, compilePolicies, type RepeatLimit } from './policy.ts';
import type { ConfigFile, RouteMatch, RuleMatch } from './schema.ts';

export interface ConfigIssue {
  path: string;
  message: string;
}

/** A config that cannot be used: every problem, each with its key path. Never carries a whole phone
 * number or address (one typed where a limit, a district or a key goes is masked). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];
  constructor(found: ConfigIssue[], options?: ErrorOptions) {
    const issues = found.map((i) => ({ ...i, path: maskContacts(i.path), message: maskContacts(i.message) }));
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'), options);
    this.issues = issues;
  }
}

export interface CompiledRule {
  index: number;
  id: string;
  description: string | undefined;
  match: RuleMatch;
  specificity: number;
  warn: Limit;
  breach: Limit;
  escalate: Limit;
  /** When all three limits are elapsed time: each level's offset from the stage start (ms), kept
   * in order, so the engine needs no calendar and no allocation for this rule. */
  elapsedOffsets: readonly [number, number, number] | undefined;
}

/** The attributes a rule or a route can see. */
export interface CaseKey {
  category: string;
  riskLevel: RiskLevel;
  stage: Stage;
  childrenInvolved: boolean;
  district: string;
}

export interface CompiledConfig {
  file: ConfigFile;
  calendar: WorkingCalendar;
  vocabulary: CaseVocabulary;
  rules: CompiledRule[];
  /** The default repeat intervals (an audience may have its own: see `policy`). */
  repeat: Record<Level, RepeatLimit>;
  /** An audience's scope, repeats and quiet hours. */
  policy(audience: string): AudiencePolicy;
  acknowledge: AcknowledgePolicy;
  /** Where an audience hears of a case in a district: the district, its local authority, or
   * 'force', by the audience's scope. A message goes to one audience at one place. */
  placeOf(audience: string, district: string): string;
  /** A place for people: "D07 Millbrook", "Millbrook Metropolitan Borough", the force's name. */
  placeName(audience: string, place: string): string;
  /** A district for people: "D07 Millbrook". */
  districtName(district: string): string;
  /** The winning rule for an open case's attributes; undefined only for unknown values. */
  ruleFor(key: CaseKey): CompiledRule | undefined;
  /** Audiences for a case at a level; never empty (the fallback audience catches the rest). */
  audiencesFor(key: CaseKey, level: Level): readonly string[];
  /** Which routes (by index) match; for `routes test`. */
  matchingRoutes(key: CaseKey, level: Level): number[];
  /** The catch-all rule: an absolute ceiling for every open case, on top of its own rule. */
  ceiling: CompiledRule;
  /** Audiences for a case whose own rule is not the ceiling, at the ceiling's level. */
  ceilingAudiencesFor(key: CaseKey, level: Level): readonly string[];
  matchingCeilingRoutes(key: CaseKey, level: Level): number[];
  localAuthorityOf(district: string): string;
  /** Combinations (per level) that reach no route and go to the fallback audience. */
  fallbackCount: number;
  /** The silence signals (compile-signals.ts). */
  signals: CompiledSignals;
}

/** Numbers every combination of case attributes, so the engine's lookups are array reads rather
 * than string building: the scan does one per open case per run, the benchmark a million. */
function keyIndexer(file: ConfigFile) {
  const index = <T extends string>(values: readonly T[]) =>
    new Map<unknown, number>(values.map((v, i) => [v, i]));
  const categories = index(file.categories);
  const risks = index(RISK_LEVELS);
  const stages = index(OPEN_STAGES);
  const districts = index(Object.keys(file.districts));
  const size = categories.size * risks.size * stages.size * 2 * districts.size;
  const indexOf = (k: CaseKey): number => {
    const c = categories.get(k.category);
    const r = risks.get(k.riskLevel);
    const s = stages.get(k.stage);
    const d = districts.get(k.district);
    if (c === undefined || r === undefined || s === undefined || d === undefined) return -1;
    return (((c * risks.size + r) * stages.size + s) * 2 + (k.childrenInvolved ? 1 : 0)) * districts.size + d;
  };
  return { size, indexOf };
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

function matches(match: RuleMatch, key: CaseKey): boolean {
  const has = <T>(want: T | T[] | undefined, value: T) =>
    want === undefined || (Array.isArray(want) ? want.includes(value) : want === value);
  return (
    has(match.category, key.category) &&
    has(match.riskLevel, key.riskLevel) &&
    has(match.stage, key.stage) &&
    (match.childrenInvolved === undefined || match.childrenInvolved === key.childrenInvolved) &&
    has(match.district, key.district)
  );
}

function routeMatches(match: RouteMatch, key: CaseKey, level: Level, rule: string, localAuthority: string) {
  const has = <T>(want: T | T[] | undefined, value: T) =>
    want === undefined || (Array.isArray(want) ? want.includes(value) : want === value);
  return (
    matches(match, key) &&
    has(match.localAuthority, localAuthority) &&
    has(match.rule, rule) &&
    has(match.level, level)
  );
}

/** Every combination of attributes an open case can have under this config. */
export function* openCaseKeys(file: ConfigFile): Generator<CaseKey> {
  for (const category of file.categories)
    for (const riskLevel of RISK_LEVELS)
      for (const stage of OPEN_STAGES)
        for (const childrenInvolved of [false, true])
          for (const district of Object.keys(file.districts))
            yield { category, riskLevel, stage, childrenInvolved, district };
}

export function compileConfig(file: ConfigFile): CompiledConfig {
  const issues: ConfigIssue[] = [];
  const categories = new Set(file.categories);
  const districts = new Set(Object.keys(file.districts));
  const authorities = new Set(Object.keys(file.localAuthorities));
  const audiences = new Set(Object.keys(file.audiences));

  const limit = (path: string, text: string): Limit => {
    const parsed = parseLimit(text);
    if ('error' in parsed) {
      issues.push({ path, message: parsed.error });
      return { kind: 'elapsed', ms: 0, text };
    }
    return parsed;
  };

  const checkNames = (path: string, values: string[] | undefined, known: Set<string>, what: string) => {
    for (const value of values ?? []) {
      if (!known.has(value))
        issues.push({ path, message: `unknown ${what} '${value}' (known: ${[...known].join(', ')})` });
    }
  };

  for (const [district, { localAuthority }] of Object.entries(file.districts)) {
    checkNames(`districts.${district}.localAuthority`, [localAuthority], authorities, 'local authority');
  }
  file.categories.forEach((category, i) => {
    if (file.categories.indexOf(category) !== i) {
      issues.push({ path: `categories[${i}]`, message: `category '${category}' is listed twice` });
    }
  });
  if (!audiences.has(file.fallbackAudience)) {
    issues.push({ path: 'fallbackAudience', message: `unknown audience '${file.fallbackAudience}'` });
  }

  const seenRuleIds = new Set<string>();
  const rules: CompiledRule[] = file.rules.map((rule, index) => {
    const path = `rules[${index}]`;
    if (seenRuleIds.has(rule.id))
      issues.push({ path: `${path}.id`, message: `duplicate rule id '${rule.id}'` });
    seenRuleIds.add(rule.id);
    checkNames(`${path}.match.category`, asList(rule.match.category), categories, 'category');
    checkNames(`${path}.match.district`, asList(rule.match.district), districts, 'district');
    const compiled: CompiledRule = {
      index,
      id: rule.id,
      description: rule.description,
      match: rule.match,
      specificity: Object.values(rule.match).filter((v) => v !== undefined).length,
      warn: limit(`${path}.warn`, rule.warn),
      breach: limit(`${path}.breach`, rule.breach),
      escalate: limit(`${path}.escalate`, rule.escalate),
      elapsedOffsets: undefined,
    };
    const { warn, breach, escalate } = compiled;
    // A limit that is not one is reported once, not again as out of order.
    const readable = (l: Limit) => l.kind === 'working-days' || l.ms > 0;
    if (warn.kind === 'elapsed' && breach.kind === 'elapsed' && escalate.kind === 'elapsed') {
      const b = Math.max(warn.ms, breach.ms);
      compiled.elapsedOffsets = [warn.ms, b, Math.max(b, escalate.ms)];
    }
    if (readable(warn) && readable(breach) && minimumMs(warn) > minimumMs(breach)) {
      issues.push({
        path: `${path}.warn`,
        message: `thresholds out of order: warn ${rule.warn} is later than breach ${rule.breach}`,
      });
    }
    if (readable(breach) && readable(escalate) && minimumMs(breach) > minimumMs(escalate)) {
      issues.push({
        path: `${path}.breach`,
        message: `thresholds out of order: breach ${rule.breach} is later than escalate ${rule.escalate}`,
      });
    }
    return compiled;
  });

  if (!rules.some((r) => r.specificity === 0)) {
    issues.push({
      path: 'rules',
      message: 'no catch-all rule (one with an empty match): every open case needs an absolute ceiling',
    });
  }

  checkNames('digest.audiences', file.digest.audiences, audiences, 'audience');
  file.routes.forEach((route, index) => {
    const path = `routes[${index}]`;
    checkNames(`${path}.audiences`, route.audiences, audiences, 'audience');
    checkNames(`${path}.match.category`, asList(route.match.category), categories, 'category');
    checkNames(`${path}.match.district`, asList(route.match.district), districts, 'district');
    checkNames(
      `${path}.match.localAuthority`,
      asList(route.match.localAuthority),
      authorities,
      'local authority',
    );
    checkNames(`${path}.match.rule`, asList(route.match.rule), seenRuleIds, 'rule');
  });

  const policies = compilePolicies(file, issues);

  const signals = compileSignals(file, issues);

  let calendar: WorkingCalendar = createWorkingCalendar();
  try {
    calendar = createWorkingCalendar(file.calendar.extraNonWorkingDays);
  } catch (error) {
    issues.push({ path: 'calendar.extraNonWorkingDays', message: (error as Error).message });
  }

  if (issues.length > 0) throw new ConfigError(issues);

  // Resolve every combination once: the engine then does one map lookup per case.
  const keys = keyIndexer(file);
  const ruleByKey: Array<CompiledRule | undefined> = new Array(keys.size).fill(undefined);
  const audiencesByKey: Array<readonly string[]> = new Array(keys.size * 3);
  const routesByKey: number[][] = new Array(keys.size * 3);
  const ruleWins = new Set<number>();
  const routeUsed = new Set<number>();
  const overlaps = new Map<string, ConfigIssue>();
  const ceilingAudiencesByKey: Array<readonly string[]> = new Array(keys.size * 3);
  const ceilingRoutesByKey: number[][] = new Array(keys.size * 3);
  let fallbackCount = 0;
  const ceiling = rules.find((r) => r.specificity === 0);

  const resolveRoutes = (key: CaseKey, level: Level, ruleId: string) => {
    const localAuthority = file.districts[key.district]?.localAuthority ?? '';
    const matched: number[] = [];
    const found = new Set<string>();
    file.routes.forEach((route, index) => {
      if (!routeMatches(route.match, key, level, ruleId, localAuthority)) return;
      matched.push(index);
      routeUsed.add(index);
      for (const audience of route.audiences) found.add(audience);
    });
    if (found.size === 0) {
      fallbackCount += 1;
      found.add(file.fallbackAudience);
    }
    return { matched, audiences: [...found] as readonly string[] };
  };

  for (const key of openCaseKeys(file)) {
    let best: CompiledRule | undefined;
    let tied: CompiledRule | undefined;
    for (const rule of rules) {
      if (!matches(rule.match, key)) continue;
      if (!best || rule.specificity > best.specificity) {
        best = rule;
        tied = undefined;
      } else if (rule.specificity === best.specificity && !tied) {
        tied = rule;
      }
    }
    if (!best) continue; // unreachable: a catch-all exists
    if (tied) {
      const id = `${best.id}/${tied.id}`;
      if (!overlaps.has(id)) {
        overlaps.set(id, {
          path: `rules[${tied.index}].match`,
          message: `overlaps rule '${best.id}' with equal specificity (both match e.g. ${describeKey(key)}); make one more specific`,
        });
      }
    }
    ruleWins.add(best.index);
    const k = keys.indexOf(key);
    ruleByKey[k] = best;
    for (const level of LEVELS) {
      const own = resolveRoutes(key, level, best.id);
      const at = k * 3 + rankOf(level);
      audiencesByKey[at] = own.audiences;
      routesByKey[at] = own.matched;
      if (ceiling && best !== ceiling) {
        const capped = resolveRoutes(key, level, ceiling.id);
        ceilingAudiencesByKey[at] = capped.audiences;
        ceilingRoutesByKey[at] = capped.matched;
      }
    }
  }
  // The ceiling applies to every open case, whichever rule wins.
  if (ceiling) ruleWins.add(ceiling.index);

  issues.push(...overlaps.values());
  for (const rule of rules) {
    if (!ruleWins.has(rule.index)) {
      issues.push({
        path: `rules[${rule.index}].match`,
        message: `rule '${rule.id}' is unreachable: more specific or earlier rules match every case it matches`,
      });
    }
  }
  file.routes.forEach((_, index) => {
    if (!routeUsed.has(index)) {
      issues.push({
        path: `routes[${index}].match`,
        message: 'route is unreachable: no open case and level matches it',
      });
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);

  const policyOf = (audience: string): AudiencePolicy => {
    const found = policies.audiences.get(audience);
    if (!found) throw new Error(`no audience '${audience}' in the config`);
    return found;
  };
  const localAuthorityOf = (district: string) => file.districts[district]?.localAuthority ?? 'unknown';
  const districtName = (district: string) => {
    const name = file.districts[district]?.name;
    return name ? `${district} ${name}` : district;
  };
  return {
    file,
    calendar,
    vocabulary: { categories, districts },
    rules,
    repeat: policies.repeat,
    policy: policyOf,
    acknowledge: policies.acknowledge,
    placeOf: (audience, district) => {
      const scope = policyOf(audience).scope;
      return scope === 'district'
        ? district
        : scope === 'local-authority'
          ? localAuthorityOf(district)
          : 'force';
    },
    placeName: (audience, place) => {
      const scope = policyOf(audience).scope;
      if (scope === 'district') return districtName(place);
      return scope === 'local-authority' ? (file.localAuthorities[place]?.name ?? place) : file.force;
    },
    districtName,
    fallbackCount,
    ruleFor: (key) => ruleByKey[keys.indexOf(key)],
    ceiling: ceiling as CompiledRule,
    audiencesFor: (key, level) =>
      audiencesByKey[keys.indexOf(key) * 3 + rankOf(level)] ?? [file.fallbackAudience],
    matchingRoutes: (key, level) => routesByKey[keys.indexOf(key) * 3 + rankOf(level)] ?? [],
    ceilingAudiencesFor: (key, level) =>
      ceilingAudiencesByKey[keys.indexOf(key) * 3 + rankOf(level)] ?? [file.fallbackAudience],
    matchingCeilingRoutes: (key, level) => ceilingRoutesByKey[keys.indexOf(key) * 3 + rankOf(level)] ?? [],
    localAuthorityOf,
    signals,
  };
}

function describeKey(key: CaseKey): string {
  return `${key.category}/${key.riskLevel}/${key.stage}/children=${key.childrenInvolved}/${key.district}`;
}
