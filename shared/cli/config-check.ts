// `queuewatch config check [FILE]`: validates a config, summarises its rules and routes, and warns
// about what is valid but probably not meant: cases only the ceiling covers, levels on different
// clocks that can come out of order, a bank-holiday list about to run out; and fails a config too
// big for an SSM parameter.

import { MIRROR_TABLE } from '../adapters/tables.ts';
import type { CompiledConfig, CompiledRule } from '../config/compile.ts';
import { ceilingOnlyGaps, describeGap } from '../config/coverage.ts';
import { configFileJson, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts';
import { describeTier, parameterTier, storedConfigValue } from '../config/stored.ts';
import { alertedLevels } from '../delivery/coverage.ts';
import { COVERED_UNTIL, ENGLAND_AND_WALES_BANK_HOLIDAYS } from '../domain/bank-holidays.ts';
import { epochDay, isoDateOfEpochDay, isWeekday } from '../domain/calendar.ts';
import { LEVELS } from '../domain/levels.ts';
import { EXIT, plural, print } from './output.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

const describeMatch = (match: Record<string, unknown>) => {
  const parts = Object.entries(match)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return parts.length > 0 ? parts.join(' ') : '(any open case)';
};

/** What is valid but probably not meant, one line each. */
export function configWarnings(config: CompiledConfig, nowMs: number): string[] {
  const warnings: string[] = [];
  const { ceiling } = config;
  for (const gap of ceilingOnlyGaps(config)) {
    warnings.push(
      `only the ceiling rule '${ceiling.id}' covers ${describeGap(gap)}: its first warning comes after ${ceiling.warn.text}; add a rule for it`,
    );
  }
  warnings.push(...mixedClockWarnings(config));
  if (!config.signals.configured) {
    warnings.push(
      'no signals section: nothing watches for referrals that fall or flow that stops (silence detection is off); the shipped config has one to start from',
    );
  }
  warnings.push(...ceilingWarnings(config));
  warnings.push(...deliveryWarnings(config));
  warnings.push(...nonWorkingRunWarnings(config.file.calendar.extraNonWorkingDays));
  const monthsLeft = (Date.parse(`${COVERED_UNTIL}T00:00:00Z`) - nowMs) / (30 * 86_400_000);
  if (monthsLeft < 12) {
    warnings.push(
      `the bank-holiday list ends ${COVERED_UNTIL}; add new ones to calendar.extraNonWorkingDays or upgrade`,
    );
  }
  return warnings;
}

const DAY_MS = 86_400_000;

/** The shortest and longest N working days take, in ms, from any day the bank-holiday list covers
 * (weekends, bank holidays and the config's own non-working days together). */
function workingDaysSpan(config: CompiledConfig, days: number): { shortest: number; longest: number } {
  const { calendar } = config;
  const from = Date.parse(`${calendar.coverage.from}T12:00:00Z`);
  const until = Date.parse(`${calendar.coverage.until}T12:00:00Z`) - 120 * DAY_MS;
  let longest = days * DAY_MS;
  let shortest = Number.POSITIVE_INFINITY;
  for (let t = from; t <= until; t += DAY_MS) {
    const span = calendar.addWorkingDays(t, days) - t;
    longest = Math.max(longest, span);
    shortest = Math.min(shortest, span);
  }
  return { shortest: Math.min(shortest, longest), longest };
}
const longestWorkingDays = (config: CompiledConfig, days: number) => workingDaysSpan(config, days).longest;

/** A level on working days before one on elapsed time can come after it: working days stretch
 * over weekends and bank holidays (compile refuses the opposite, and what is always out of order).
 * The engine then holds the later level back until the earlier one (it never alerts out of
 * order), so the later level's limit no longer means what it says. */
function mixedClockWarnings(config: CompiledConfig): string[] {
  const warnings: string[] = [];
  for (const rule of config.rules) {
    const pairs = [
      ['warn', rule.warn, 'breach', rule.breach],
      ['breach', rule.breach, 'escalate', rule.escalate],
    ] as const;
    for (const [earlierName, earlier, laterName, later] of pairs) {
      if (earlier.kind !== 'working-days' || later.kind !== 'elapsed') continue;
      const longest = longestWorkingDays(config, earlier.days);
      if (longest <= later.ms) continue;
      warnings.push(
        `rule '${rule.id}': ${earlierName} ${earlier.text} can come after ${laterName} ${later.text} (${earlier.text} can take up to ${Math.round(longest / DAY_MS)} days over weekends and bank holidays), and then ${laterName} waits for it: make ${laterName} later, or put both on the same clock`,
      );
    }
  }
  return warnings;
}

/** The ceiling escalating after more than this is no ceiling for the queue this project watches (cases
 * left for three months). */
const CEILING_ESCALATE_AT_MOST_MS = 90 * DAY_MS;

/** A rule's limit past the ceiling's escalation (often a typo: 36d for 36h): the ceiling's
 * audiences hear of its cases, at escalation, before the rule's own do; and a ceiling too late to
 * catch a forgotten case. */
function ceilingWarnings(config: CompiledConfig): string[] {
  const { ceiling } = config;
  const warnings: string[] = [];
  if (ceiling.escalate.kind === 'elapsed' && ceiling.escalate.ms > CEILING_ESCALATE_AT_MOST_MS) {
    warnings.push(
      `the ceiling rule '${ceiling.id}' escalates only after ${ceiling.escalate.text}: a case no other rule alerts on in time can wait over ${CEILING_ESCALATE_AT_MOST_MS / DAY_MS} days before anyone senior hears of it`,
    );
  }
  // A rule's working days at their shortest (23wd never take under 30 days); the ceiling's, on
  // working days, at their longest.
  const shortest = (limit: CompiledRule['warn']) =>
    limit.kind === 'elapsed' ? limit.ms : workingDaysSpan(config, limit.days).shortest;
  const ceilingAt =
    ceiling.escalate.kind === 'elapsed'
      ? ceiling.escalate.ms
      : longestWorkingDays(config, ceiling.escalate.days);
  const ceilingWarnAt =
    ceiling.warn.kind === 'elapsed' ? ceiling.warn.ms : longestWorkingDays(config, ceiling.warn.days);
  for (const rule of config.rules) {
    if (rule === ceiling) continue;
    const past = (['warn', 'breach', 'escalate'] as const).find((name) => shortest(rule[name]) > ceilingAt);
    if (past === undefined) {
      // A rule that warns no earlier than the ceiling leaves its cases as unwatched as a category
      // no rule covers (a district's own rule in days, say, overriding the hours of the usual one).
      if (shortest(rule.warn) >= ceilingWarnAt) {
        warnings.push(
          `rule '${rule.id}': warn ${rule.warn.text} is no earlier than the ceiling's warn ${ceiling.warn.text}, so the ceiling alone alerts on its cases (${describeMatch(rule.match)}) until then, as if no rule covered them: is ${rule.warn.text} meant?`,
        );
      }
      continue;
    }
    warnings.push(
      `rule '${rule.id}': ${past} ${rule[past].text} comes after the ceiling's escalate ${ceiling.escalate.text}, so its cases are escalated to the ceiling's audiences before this rule's own hear of them: is ${rule[past].text} meant?`,
    );
  }
  return warnings;
}

/** More weekdays than this in a row marked non-working is no closure a force has: a slip. */
const NON_WORKING_RUN_AT_MOST = 10;

/** Runs of non-working weekdays longer than two working weeks that the config's own days are part
 * of (bank holidays join them: a closure across Christmas counts the bank holidays in it): no
 * working-day limit can fall due inside one, so every case on such a limit waits the whole run out
 * unalerted by it. */
export function nonWorkingRunWarnings(days: readonly string[]): string[] {
  const own = new Set(days.map(epochDay).filter(isWeekday));
  const off = new Set([...own, ...ENGLAND_AND_WALES_BANK_HOLIDAYS.map(([date]) => epochDay(date))]);
  const nextWeekday = (day: number) => {
    let next = day + 1;
    while (!isWeekday(next)) next += 1;
    return next;
  };
  const warnings: string[] = [];
  const seen = new Set<number>();
  for (const start of [...own].sort((a, b) => a - b)) {
    if (seen.has(start)) continue;
    // Back to the run's first day, then forward to its last, weekends skipped.
    let first = start;
    for (let before = first - 1; ; before -= 1) {
      if (!isWeekday(before)) continue;
      if (!off.has(before)) break;
      first = before;
    }
    let last = first;
    let length = 1;
    for (let next = nextWeekday(last); off.has(next); next = nextWeekday(next)) {
      last = next;
      length += 1;
    }
    for (let d = first; d <= last; d += 1) seen.add(d);
    if (length > NON_WORKING_RUN_AT_MOST) {
      warnings.push(
        `calendar.extraNonWorkingDays makes ${length} weekdays in a row non-working (${isoDateOfEpochDay(first)} to ${isoDateOfEpochDay(last)}, bank holidays included): no working-day limit can fall due in them, so cases on such limits wait the whole run out; is that meant?`,
      );
    }
  }
  return warnings;
}

/** SMS reminders more often than this are more than a person can act on. */
const SMS_REMINDER_AT_LEAST_MS = 3_600_000;
/** Quiet hours that leave less than this a day may hold reminders and new warnings back for good. */
const OUTSIDE_QUIET_AT_LEAST_MINUTES = 60;
/** An acknowledgement pausing reminders for longer than this mutes a case that still waits. */
const PAUSE_AT_MOST_MS = 7 * DAY_MS;
/** Acknowledgement links valid for longer than this outlive any alert they came with. */
const LINK_VALID_AT_MOST_MS = 30 * DAY_MS;
/** Links valid for less than this are gone before most people have read the message. */
const LINK_VALID_AT_LEAST_MS = 3_600_000;

/** What each audience would receive that nobody can act on, or never receive: SMS reminders more
 * than hourly, quiet hours with (almost) no day left, SMS only for levels the audience never hears,
 * an acknowledgement that mutes for weeks. */
function deliveryWarnings(config: CompiledConfig): string[] {
  const warnings: string[] = [];
  const alerted = alertedLevels(config);
  const signalled = new Set((config.file.signals?.routes ?? []).flatMap((route) => route.audiences));
  for (const audience of Object.keys(config.file.audiences)) {
    const policy = config.policy(audience);
    const where = `audience '${audience}'`;
    const quiet = policy.quietHours;
    for (const level of LEVELS) {
      const every = policy.repeatMs[level];
      if (!policy.smsFor.has(level) || every >= SMS_REMINDER_AT_LEAST_MS) continue;
      if (!alerted.get(audience)?.has(level)) continue;
      const perHour = Math.floor(SMS_REMINDER_AT_LEAST_MS / every);
      warnings.push(
        `${where} is reminded by SMS every ${policy.repeat[level].text} at ${level}${quiet ? '' : ', day and night (no quietHours)'}: up to ${perHour} SMS an hour to each of its phones while a case waits unacknowledged; remind less often, or take ${level} by email (smsFor)`,
      );
    }
    if (quiet) {
      const minutesOutside = (quiet.from - quiet.to + 1440) % 1440;
      if (minutesOutside < OUTSIDE_QUIET_AT_LEAST_MINUTES) {
        warnings.push(
          `${where}: quietHours ${quiet.text} leave ${minutesOutside} minutes a day outside them, and its reminders and new warnings go out only in a run that falls there: give it a shorter quiet period`,
        );
      }
    }
    const heard = alerted.get(audience);
    const smsFor = config.file.audiences[audience]?.smsFor;
    if (heard && heard.size > 0 && smsFor && smsFor.length > 0 && !smsFor.some((l) => heard.has(l))) {
      // smsFor governs case alerts only: the silence signals go by SMS and email whatever it says.
      const signals = signalled.has(audience) ? ' (its silence signals still go by SMS)' : '';
      warnings.push(
        `${where} takes SMS for ${smsFor.join(', ')} only, but its case alerts come at ${LEVELS.filter((l) => heard.has(l)).join(', ')}: none of them goes by SMS${signals}; if email only is meant, say smsFor: []`,
      );
    }
  }
  const { acknowledge } = config;
  for (const level of LEVELS) {
    if (acknowledge.pauseMs[level] > PAUSE_AT_MOST_MS) {
      warnings.push(
        `acknowledge.pause.${level}: one acknowledgement pauses ${level} reminders for ${config.file.acknowledge.pause[level]}: a case still waiting goes unmentioned that long`,
      );
    }
  }
  if (acknowledge.linkValidForMs > LINK_VALID_AT_MOST_MS) {
    warnings.push(
      `acknowledge.linkValidFor ${config.file.acknowledge.linkValidFor}: an acknowledgement link works for over ${LINK_VALID_AT_MOST_MS / DAY_MS} days, long after the alert it came with`,
    );
  }
  if (acknowledge.linkValidForMs < LINK_VALID_AT_LEAST_MS) {
    warnings.push(
      `acknowledge.linkValidFor ${config.file.acknowledge.linkValidFor}: an acknowledgement link works for less than an hour, so a person who reads the message later finds it not valid any more and cannot acknowledge until the next reminder`,
    );
  }
  return warnings;
}

export function summariseConfig(config: CompiledConfig, source: string, nowMs: number): string {
  const { file } = config;
  const lines = [
    `${source}: OK`,
    `force: ${file.force}; ${plural(file.categories.length, 'category', 'categories')}, ${plural(Object.keys(file.districts).length, 'district')} in ${plural(Object.keys(file.localAuthorities).length, 'local authority', 'local authorities')}`,
    '',
    `rules (${config.rules.length}, most specific match wins):`,
  ];
  const width = Math.max(...config.rules.map((r) => r.id.length));
  for (const rule of config.rules) {
    lines.push(
      `  ${rule.id.padEnd(width)}  warn ${rule.warn.text.padEnd(4)} breach ${rule.breach.text.padEnd(4)} escalate ${rule.escalate.text.padEnd(4)}  ${describeMatch(rule.match)}`,
    );
  }
  lines.push('', `routes (${file.routes.length}, every match adds its audiences):`);
  file.routes.forEach((route, i) => {
    lines.push(`  [${i}] ${describeMatch(route.match)} -> ${route.audiences.join(', ')}`);
  });
  lines.push(
    '',
    `audiences: ${Object.keys(file.audiences).join(', ')}`,
    `repeat: warning every ${config.repeat.warning.text}, breach every ${config.repeat.breach.text}, escalation every ${config.repeat.escalation.text}`,
    `fallback audience: ${file.fallbackAudience} (${plural(config.fallbackCount, 'case/level combination')} ${config.fallbackCount === 1 ? 'reaches' : 'reach'} no route and ${config.fallbackCount === 1 ? 'goes' : 'go'} there)`,
    `alert SMS per run: at most ${file.sms.maxPerRun} (past it, a summary SMS per set of levels)`,
    `signals: ${config.signals.configured ? `${config.signals.ids.join(', ') || 'none'}` : 'none (no signals section)'}`,
  );
  const warnings = configWarnings(config, nowMs);
  if (warnings.length > 0) lines.push('', ...warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

export interface CheckOptions extends TargetOptions {
  strict?: boolean;
}

const namesMirror = (o: TargetOptions) =>
  o.stage !== undefined || o.endpoint !== undefined || o.prefix !== undefined || o.table !== undefined;

/** Prints the summary, and with a mirror named, what its open cases use that the config drops. The
 * exit status is 1 when the config is too big to push or drops a district or category still in
 * use, and with --strict when there are warnings; 4 when a mirror named by --table is not there. */
export async function checkConfigCommand(
  file: string | undefined,
  options: CheckOptions,
  nowMs: number,
): Promise<number> {
  const path = file ?? DEFAULT_CONFIG_PATH;
  const config = loadConfig(path);
  print(summariseConfig(config, path, nowMs));
  const stored = storedConfigValue(configFileJson(path));
  print(`as an SSM parameter (config push): ${describeTier(stored)}`);
  if (parameterTier(stored) === undefined) {
    // `config push` refuses it, so the check fails (a CI gate on the check would let it through).
    process.stderr.write(`queuewatch: ${path} is too big to push: ${describeTier(stored)}\n`);
    return EXIT.failed;
  }
  const warned = configWarnings(config, nowMs).length > 0;
  if (!namesMirror(options)) {
    process.stderr.write(
      'queuewatch: warning: not checked against a mirror, so a district or category that open cases still use could be dropped unseen: add --stage STAGE (or --endpoint URL, --prefix, --table) to check; `config push` always does\n',
    );
    return options.strict && warned ? EXIT.failed : EXIT.ok;
  }
  const target = tableTarget(options, MIRROR_TABLE.id);
  const { checkMirror, configInForce, describeMirrorCheck, shippedInForce } = await import(
    './config-removals.ts'
  );
  // The config in force is in SSM only on AWS; a local mirror runs on the shipped one.
  const inForce =
    options.stage !== undefined && options.endpoint === undefined
      ? await configInForce({ stage: options.stage, ...(options.region ? { region: options.region } : {}) })
      : shippedInForce();
  const check = await checkMirror(target, config, inForce);
  const described = describeMirrorCheck(check, path, inForce);
  if (check.read === undefined) {
    // Nothing was checked: said on stderr, and an error when the table was named outright.
    for (const line of described) process.stderr.write(`queuewatch: ${line}\n`);
    if (options.table !== undefined) return EXIT.unavailable;
    return options.strict ? EXIT.failed : EXIT.ok;
  }
  print(['', ...described].join('\n'));
  if (check.removed.length > 0) return EXIT.failed;
  return options.strict && (warned || check.unknown.length > 0) ? EXIT.failed : EXIT.ok;
}
