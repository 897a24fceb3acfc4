// Who would receive what: for each audience and place (district, local authority or the force) the
// admin config can alert, how many phones and inboxes the deployment subscribes, and which levels
// nobody receives; and for each daily digest, how many inboxes receive it. The synth warns about the
// gaps; `queuewatch subscribers check` prints the table.

import { type CompiledConfig, openCaseKeys } from '../config/compile.ts';
import { FEED_STOPPED_ID } from '../config/signals-schema.ts';
import { LEVELS, type Level } from '../domain/levels.ts';
import type { Deployment, Subscriber } from './subscriptions.ts';

/** Where a force-scoped audience's alerts go: one place, the whole force. */
export const FORCE = 'force';

export interface CoverageRow {
  audience: string;
  scope: 'district' | 'local-authority' | 'force';
  /** A district id, a local authority id, or `force`. */
  place: string;
  placeName: string;
  /** The levels the config can alert this audience at in this place. */
  alertedAt: Level[];
  /** Subscribers who receive at least one of those levels. */
  phones: number;
  inboxes: number;
  /** Levels alerted here that no subscriber receives. */
  nobodyAt: Level[];
}

/** One daily digest (an audience at one place, as the digest groups them) and who receives it. */
export interface DigestCoverageRow {
  audience: string;
  scope: CoverageRow['scope'];
  place: string;
  placeName: string;
  /** The audience's email subscribers at the place. The digest goes to inboxes only (phones never
   * receive it), and carries every level, so an inbox receives it whatever its `levels`. */
  inboxes: number;
}

export interface Coverage {
  rows: CoverageRow[];
  /** The daily digests (`digest.at`, London time; `digest.audiences`), each with its inboxes. */
  digest: { at: string; rows: DigestCoverageRow[] };
  /** Per digest audience with places no inbox receives its digest in, one line naming them. */
  digestGaps: Array<{ audience: string; message: string }>;
  /** Audiences that no route (nor the fallback) ever alerts, nor any silence signal's route. */
  neverAlerted: string[];
  /** Audiences that hear only of silence signals (`signals.routes`): no case alert reaches them. */
  signalsOnly: string[];
  /** Per audience with gaps, one line grouping its places by the levels nobody receives. */
  gaps: Array<{ audience: string; message: string }>;
  /** Subscribers (by index) whose `levels` take none of the levels their audience is alerted or
   * signalled at in their place: they receive no alert at all. */
  unheard: Array<{ index: number; alertedAt: Level[] }>;
}

/** The place a subscriber's filter policy matches: its district, local authority, or the force. */
export function placeOf(subscriber: Subscriber, scope: CoverageRow['scope']): string | undefined {
  if (scope === 'district') return subscriber.district;
  if (scope === 'local-authority') return subscriber.localAuthority;
  return FORCE;
}

type Places = Map<string, Map<string, Set<Level>>>;

/** Notes that an audience can hear at a level of a case or signal in a district: at the district,
 * its local authority or the force, by the audience's scope. */
function addPlace(
  config: CompiledConfig,
  into: Places,
  audience: string,
  district: string,
  level: Level,
): void {
  if (!config.file.audiences[audience]) return;
  const place = config.placeOf(audience, district);
  const places = into.get(audience) ?? new Map<string, Set<Level>>();
  into.set(audience, places);
  const levels = places.get(place) ?? new Set<Level>();
  places.set(place, levels);
  levels.add(level);
}

/** Every (audience, place, level) the config can alert, found by routing every combination of case
 * attributes the config allows (a few thousand), the ceiling's audiences included. */
function alertedPlaces(config: CompiledConfig): Places {
  const found: Places = new Map();
  for (const key of openCaseKeys(config.file)) {
    const ownRuleIsCeiling = config.ruleFor(key) === config.ceiling;
    for (const level of LEVELS) {
      for (const audience of config.audiencesFor(key, level))
        addPlace(config, found, audience, key.district, level);
      if (!ownRuleIsCeiling) {
        for (const audience of config.ceilingAudiencesFor(key, level))
          addPlace(config, found, audience, key.district, level);
      }
    }
  }
  return found;
}

/** The levels each audience is alerted at, anywhere (ageing alerts only: the silence signals go to
 * their audiences by SMS and email whatever `smsFor` says). */
export function alertedLevels(config: CompiledConfig): Map<string, Set<Level>> {
  const out = new Map<string, Set<Level>>();
  for (const [audience, places] of alertedPlaces(config)) {
    const levels = new Set<Level>();
    for (const atPlace of places.values()) for (const level of atPlace) levels.add(level);
    out.set(audience, levels);
  }
  return out;
}

/** Every (audience, place, level) a silence signal can go to: each signal in each district (the
 * whole-feed signal to every place of the feed), at the signal's level, as the signals run sends
 * them. */
function signalledPlaces(config: CompiledConfig, into: Places): void {
  const { signals } = config;
  const districts = Object.keys(config.file.districts);
  for (const signal of signals.ids) {
    const level = signals.levelOf(signal);
    // The whole-feed signal is routed as no district, and sent to every place of the feed.
    const routedAt = signal === FEED_STOPPED_ID ? [undefined] : districts;
    for (const routed of routedAt) {
      for (const audience of signals.audiencesFor(signal, routed)) {
        for (const district of routed ? [routed] : districts)
          addPlace(config, into, audience, district, level);
      }
    }
  }
}

/** Each daily digest and its inboxes: every digest audience at each place its scope gives the
 * force's districts, in the districts' order, as the digest groups its recipients
 * (`digestGroups`, shared/digest/picture.ts: delivery may not import the digest, which imports it). */
function digestCoverage(deployment: Deployment, config: CompiledConfig): Coverage['digest'] {
  const rows: DigestCoverageRow[] = [];
  for (const audience of config.file.digest.audiences) {
    const scope = config.file.audiences[audience]?.scope;
    if (!scope) continue;
    const places = new Set(Object.keys(config.file.districts).map((d) => config.placeOf(audience, d)));
    for (const place of places) {
      const inboxes = deployment.subscribers.filter(
        (s) => s.protocol === 'email' && s.audience === audience && placeOf(s, scope) === place,
      ).length;
      rows.push({ audience, scope, place, placeName: config.placeName(audience, place), inboxes });
    }
  }
  return { at: config.file.digest.at, rows };
}

/** Per digest audience, the places whose digest no inbox receives: it is published, marked sent,
 * and reaches nobody. */
function digestGapsOf(digest: Coverage['digest']): Coverage['digestGaps'] {
  const unreceived = new Map<string, DigestCoverageRow[]>();
  for (const row of digest.rows) {
    if (row.inboxes === 0) unreceived.set(row.audience, [...(unreceived.get(row.audience) ?? []), row]);
  }
  return [...unreceived].map(([audience, rows]) => {
    const where = rows[0]?.scope === 'force' ? '(force-wide)' : `in ${rows.map((r) => r.place).join(', ')}`;
    return {
      audience,
      message: `daily digest for ${audience}: nobody receives it ${where}: it goes to email subscribers only, never to phones`,
    };
  });
}

export function coverageOf(deployment: Deployment, config: CompiledConfig): Coverage {
  const { file } = config;
  const alerted = alertedPlaces(config);
  // Audiences no case alert reaches, before the signals' places join them.
  const caseAudiences = new Set(alerted.keys());
  signalledPlaces(config, alerted);
  const rows: CoverageRow[] = [];
  const neverAlerted: string[] = [];
  const signalsOnly: string[] = [];
  const gaps: Coverage['gaps'] = [];
  const signalled = new Set((file.signals?.routes ?? []).flatMap((route) => route.audiences));

  for (const [audience, { scope }] of Object.entries(file.audiences)) {
    if (!caseAudiences.has(audience)) (signalled.has(audience) ? signalsOnly : neverAlerted).push(audience);
    const places = alerted.get(audience);
    if (!places) continue;
    // Places in the config's order, so the table reads like the config.
    const allPlaces =
      scope === 'district'
        ? Object.entries(file.districts).map(([id, d]) => [id, d.name] as const)
        : scope === 'local-authority'
          ? Object.entries(file.localAuthorities).map(([id, la]) => [id, la.name] as const)
          : [[FORCE, file.force] as const];
    const gapsByLevels = new Map<string, string[]>();
    for (const [place, placeName] of allPlaces) {
      const levels = places.get(place);
      if (!levels) continue;
      const alertedAt = LEVELS.filter((l) => levels.has(l));
      const receiving = deployment.subscribers.filter(
        (s) =>
          s.audience === audience &&
          placeOf(s, scope) === place &&
          alertedAt.some((l) => !s.levels || s.levels.includes(l)),
      );
      const nobodyAt = alertedAt.filter((l) => !receiving.some((s) => !s.levels || s.levels.includes(l)));
      rows.push({
        audience,
        scope,
        place,
        placeName,
        alertedAt,
        phones: receiving.filter((s) => s.protocol === 'sms').length,
        inboxes: receiving.filter((s) => s.protocol === 'email').length,
        nobodyAt,
      });
      if (nobodyAt.length > 0) {
        const levelsText = nobodyAt.join(', ');
        gapsByLevels.set(levelsText, [...(gapsByLevels.get(levelsText) ?? []), place]);
      }
    }
    const parts = [...gapsByLevels].map(([levels, where]) =>
      scope === 'force' ? `${levels} (force-wide)` : `${levels} in ${where.join(', ')}`,
    );
    const what = caseAudiences.has(audience) ? '' : 'its silence signals at ';
    if (parts.length > 0)
      gaps.push({ audience, message: `${audience}: nobody receives ${what}${parts.join('; ')}` });
  }
  const unheard: Coverage['unheard'] = [];
  deployment.subscribers.forEach((s, index) => {
    const scope = file.audiences[s.audience]?.scope;
    const place = scope ? placeOf(s, scope) : undefined;
    const levels = place === undefined ? undefined : alerted.get(s.audience)?.get(place);
    if (!s.levels || !levels || s.levels.some((l) => levels.has(l))) return;
    unheard.push({ index, alertedAt: LEVELS.filter((l) => levels.has(l)) });
  });
  const digest = digestCoverage(deployment, config);
  return { rows, digest, digestGaps: digestGapsOf(digest), neverAlerted, signalsOnly, gaps, unheard };
}
