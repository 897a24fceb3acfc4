// Compiles the `signals` section: parsed repeat intervals, a match function for each signal's
// transitions, and the audiences of each signal in each district (or for the whole feed), with
// the checks a schema cannot make: unknown names, a proportion whose "referred" counts cases it
// does not judge, unreachable routes.

import { RISK_LEVELS, STAGES } from '../domain/case.ts';
import { parseLimit } from '../domain/duration.ts';
import { type FlowKey, FROM_STAGES } from '../domain/flow.ts';
import type { Level } from '../domain/levels.ts';
import type { ConfigFile } from './schema.ts';
import { FEED_STOPPED_ID, FLOW_STOPPED_ID, type FlowMatch } from './signals-schema.ts';

interface Issue {
  path: string;
  message: string;
}

export interface SignalSettings {
  baselineWeeks: number;
  minBaselineWeeks: number;
  falseAlarmDays: number;
}

interface SignalBase {
  id: string;
  label: string;
  description: string | undefined;
  level: Level;
  fall: number;
}

export interface RateSignal extends SignalBase {
  kind: 'rate';
  counts: (key: FlowKey) => boolean;
}

export interface ProportionSignal extends SignalBase {
  kind: 'proportion';
  /** A transition that is one case judged, and one that is judged and referred. */
  judged: (key: FlowKey) => boolean;
  referred: (key: FlowKey) => boolean;
  floor: number | undefined;
}

export type CountSignal = RateSignal | ProportionSignal;

export interface CompiledSignals {
  settings: SignalSettings;
  /** How often a raised signal is sent again (ms). */
  repeatMs: number;
  flowRepeatMs: number;
  rates: RateSignal[];
  proportions: ProportionSignal[];
  flowStopped: { districts: boolean; feed: boolean; districtLevel: Level; feedLevel: Level };
  /** The level a signal is sent at (its subscribers' `levels` filters see it). */
  levelOf(signal: string): Level;
  /** Audiences of a signal in a district (undefined: the whole feed); never empty. */
  audiencesFor(signal: string, district: string | undefined): readonly string[];
  /** The routes (by index) that match; for `signals show`. */
  matchingRoutes(signal: string, district: string | undefined): number[];
  /** Every signal id, the flow-stopped ones included when on. */
  ids: string[];
  /** False when the config has no signals section: nothing is judged. */
  configured: boolean;
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

function matcher(match: FlowMatch): (key: FlowKey) => boolean {
  const has = <T>(want: T | T[] | undefined, value: T) =>
    want === undefined || (Array.isArray(want) ? want.includes(value) : want === value);
  return (key) =>
    has(match.from, key.from) &&
    has(match.to, key.to) &&
    has(match.category, key.category) &&
    has(match.riskLevel, key.riskLevel) &&
    (match.childrenInvolved === undefined || match.childrenInvolved === key.childrenInvolved);
}

function* allKeys(categories: readonly string[]): Generator<FlowKey> {
  for (const from of FROM_STAGES)
    for (const to of STAGES)
      for (const category of categories)
        for (const riskLevel of RISK_LEVELS)
          for (const childrenInvolved of [false, true]) {
            if (from !== to) yield { from, to, category, riskLevel, childrenInvolved };
          }
}

const elapsedMs = (path: string, text: string, issues: Issue[]): number => {
  const parsed = parseLimit(text);
  if ('error' in parsed) {
    issues.push({ path, message: parsed.error });
    return 0;
  }
  if (parsed.kind !== 'elapsed') {
    issues.push({ path, message: 'must be elapsed time (like 4h or 1d), not working days' });
    return 0;
  }
  return parsed.ms;
};

const NONE: CompiledSignals = {
  settings: { baselineWeeks: 8, minBaselineWeeks: 4, falseAlarmDays: 3000 },
  repeatMs: 0,
  flowRepeatMs: 0,
  rates: [],
  proportions: [],
  flowStopped: { districts: false, feed: false, districtLevel: 'breach', feedLevel: 'escalation' },
  levelOf: () => 'breach',
  audiencesFor: () => [],
  matchingRoutes: () => [],
  ids: [],
  configured: false,
};

/** Compiles the section, adding its problems to `issues` (paths start `signals.`). */
export function compileSignals(file: ConfigFile, issues: Issue[]): CompiledSignals {
  const signals = file.signals;
  if (!signals) return NONE;
  const categories = new Set(file.categories);
  const audiences = new Set(Object.keys(file.audiences));
  const districts = new Set(Object.keys(file.districts));
  const authorities = new Set(Object.keys(file.localAuthorities));
  const ids = new Set<string>();
  const checkNames = (path: string, values: string[] | undefined, known: Set<string>, what: string) => {
    for (const value of values ?? []) {
      if (!known.has(value)) {
        issues.push({ path, message: `unknown ${what} '${value}' (known: ${[...known].join(', ')})` });
      }
    }
  };
  const claimId = (path: string, id: string) => {
    if (ids.has(id) || id === FLOW_STOPPED_ID || id === FEED_STOPPED_ID) {
      issues.push({ path, message: `duplicate or reserved signal id '${id}'` });
    }
    ids.add(id);
  };

  if (signals.baseline.minWeeks > signals.baseline.weeks) {
    issues.push({
      path: 'signals.baseline.minWeeks',
      message: `is more than baseline.weeks (${signals.baseline.weeks}): a signal would never stop learning`,
    });
  }

  const rates: RateSignal[] = signals.rates.map((rate, i) => {
    const path = `signals.rates[${i}]`;
    claimId(`${path}.id`, rate.id);
    checkNames(`${path}.count.category`, asList(rate.count.category), categories, 'category');
    return {
      kind: 'rate',
      id: rate.id,
      label: rate.label,
      description: rate.description,
      level: rate.level,
      fall: rate.fall,
      counts: matcher(rate.count),
    };
  });

  const proportions: ProportionSignal[] = signals.proportions.map((p, i) => {
    const path = `signals.proportions[${i}]`;
    claimId(`${path}.id`, p.id);
    checkNames(`${path}.cases.category`, asList(p.cases.category), categories, 'category');
    checkNames(`${path}.referred.category`, asList(p.referred.category), categories, 'category');
    const judged = matcher(p.cases);
    const referredMatch = matcher(p.referred);
    const referred = (key: FlowKey) => judged(key) && referredMatch(key);
    const keys = [...allKeys(file.categories)];
    if (!keys.some(judged)) issues.push({ path: `${path}.cases`, message: 'matches no transition' });
    else if (!keys.some(referred)) {
      issues.push({
        path: `${path}.referred`,
        message: 'matches none of the cases judged: the share is always 0',
      });
    } else if (keys.filter(judged).every(referredMatch)) {
      issues.push({
        path: `${path}.referred`,
        message: 'matches every case judged: the share is always 100%',
      });
    }
    return {
      kind: 'proportion',
      id: p.id,
      label: p.label,
      description: p.description,
      level: p.level,
      fall: p.fall,
      judged,
      referred,
      floor: p.floor,
    };
  });

  const allIds = [
    ...ids,
    ...(signals.flowStopped.districts ? [FLOW_STOPPED_ID] : []),
    ...(signals.flowStopped.feed ? [FEED_STOPPED_ID] : []),
  ];
  const known = new Set([...allIds, FLOW_STOPPED_ID, FEED_STOPPED_ID]);
  signals.routes.forEach((route, i) => {
    const path = `signals.routes[${i}]`;
    checkNames(`${path}.audiences`, route.audiences, audiences, 'audience');
    checkNames(`${path}.match.signal`, asList(route.match.signal), known, 'signal');
    checkNames(`${path}.match.district`, asList(route.match.district), districts, 'district');
    checkNames(
      `${path}.match.localAuthority`,
      asList(route.match.localAuthority),
      authorities,
      'local authority',
    );
  });

  const repeatMs = elapsedMs('signals.repeat', signals.repeat, issues);
  const flowRepeatMs = elapsedMs('signals.flowStopped.repeat', signals.flowStopped.repeat, issues);

  const has = <T>(want: T | T[] | undefined, value: T | undefined) =>
    want === undefined ||
    (value !== undefined && (Array.isArray(want) ? want.includes(value) : want === value));
  const matchingRoutes = (signal: string, district: string | undefined): number[] => {
    const localAuthority = district ? file.districts[district]?.localAuthority : undefined;
    const out: number[] = [];
    signals.routes.forEach((route, i) => {
      if (
        has(route.match.signal, signal) &&
        has(route.match.district, district) &&
        has(route.match.localAuthority, localAuthority)
      ) {
        out.push(i);
      }
    });
    return out;
  };
  const places = (signal: string) => (signal === FEED_STOPPED_ID ? [undefined] : [...districts]);
  const used = new Set<number>();
  for (const signal of allIds)
    for (const place of places(signal)) for (const r of matchingRoutes(signal, place)) used.add(r);
  signals.routes.forEach((_, i) => {
    if (!used.has(i)) {
      issues.push({
        path: `signals.routes[${i}]`,
        message: 'route is unreachable: no signal and district matches it',
      });
    }
  });

  return {
    settings: {
      baselineWeeks: signals.baseline.weeks,
      minBaselineWeeks: signals.baseline.minWeeks,
      falseAlarmDays: signals.falseAlarmDays,
    },
    repeatMs,
    flowRepeatMs,
    rates,
    proportions,
    flowStopped: {
      districts: signals.flowStopped.districts,
      feed: signals.flowStopped.feed,
      districtLevel: signals.flowStopped.districtLevel,
      feedLevel: signals.flowStopped.feedLevel,
    },
    levelOf: (signal) =>
      signal === FLOW_STOPPED_ID
        ? signals.flowStopped.districtLevel
        : signal === FEED_STOPPED_ID
          ? signals.flowStopped.feedLevel
          : ([...rates, ...proportions].find((x) => x.id === signal)?.level ?? 'breach'),
    audiencesFor: (signal, district) => {
      const found = new Set<string>();
      for (const i of matchingRoutes(signal, district))
        for (const a of signals.routes[i]?.audiences ?? []) found.add(a);
      return found.size > 0 ? [...found] : [file.fallbackAudience];
    },
    matchingRoutes,
    ids: allIds,
    configured: true,
  };
}
