// What a signal says: an SMS that fits one segment and a plain-text email, saying what was seen and
// what is normal ("D07 Millbrook: child referrals 3 of 11 (27%) in 7 days, normal 79%"), and a
// recovery line when it clears. Only districts, counts and shares: never a case or a person.

import type { CompiledConfig } from '../config/compile.ts';
import {
  DAY_MS,
  formatDate,
  formatLondonLong,
  formatLondonWeekdayClock,
  isoDateOfEpochDay,
} from '../domain/calendar.ts';
import { formatAge } from '../domain/duration.ts';
import { londonDay } from '../domain/flow.ts';
import { fitsOneSegment } from '../domain/notify.ts';
import type { SignalStatus } from './evaluate.ts';

export type SignalEvent = 'raised' | 'repeat' | 'cleared';

export interface RenderedSignal {
  sms: string;
  email: { subject: string; body: string };
}

/** "Mon 06:12" in London. */
/** When a transition was, in London: `Sun 20:27` within the last six days, else `5 Oct 20:27` (a
 * weekday alone would read as this week's). */
const when = (iso: string, nowMs: number) => {
  const at = Date.parse(iso);
  const clock = formatLondonWeekdayClock(at);
  return nowMs - at < 6 * DAY_MS
    ? clock
    : `${formatDate(isoDateOfEpochDay(londonDay(at)), 'short')} ${clock.slice(4)}`;
};
/** "19 Nov" for an ISO date (a London day). */
const day = (isoDate: string) => formatDate(isoDate, 'short');
const pct = (share: number) => `${Math.round(share * 100)}%`;
const capital = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** A quiet spell for people: `45m`, `9h 5m`, `2d 3h`. */
export function quietFor(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours}h` : `${hours}h ${minutes % 60}m`;
  return formatAge(ms);
}

export function labelOf(status: SignalStatus, config: CompiledConfig): string {
  if (status.kind === 'flow-stopped' || status.kind === 'feed-stopped') return 'case movements';
  const signal = [...config.signals.rates, ...config.signals.proportions].find((s) => s.id === status.signal);
  return signal?.label ?? status.signal;
}

function place(status: SignalStatus, config: CompiledConfig, short = false): string {
  if (!status.district) return 'all districts';
  const name = config.file.districts[status.district]?.name;
  return short || !name ? status.district : `${status.district} ${name}`;
}

/** The facts of a status in a few words, for the SMS and the email's first line. */
function seen(status: SignalStatus, config: CompiledConfig, event: SignalEvent, nowMs: number): string[] {
  const label = labelOf(status, config);
  switch (status.kind) {
    case 'rate': {
      const facts = `${label} ${status.observed} in ${status.days} days, normal ${Math.round(status.expected)}`;
      if (event === 'cleared')
        return [
          `${label} back to normal, ${status.observed} in ${status.days} days (normal ${Math.round(status.expected)})`,
        ];
      return [facts, ...(status.fallSince ? [`Low since ${day(status.fallSince)}.`] : [])];
    }
    case 'proportion': {
      const share = status.trials > 0 ? ` (${pct(status.successes / status.trials)})` : '';
      const of = `${status.successes} of ${status.trials}${share} in ${status.days} days`;
      if (event === 'cleared') return [`${label} back to normal, ${of}`];
      const normal =
        status.normal === undefined
          ? ''
          : `, ${status.against === 'floor' ? 'floor' : 'normal'} ${pct(status.normal)}`;
      return [
        `${label} ${of}${normal}`,
        ...(status.fallSince ? [`Low since ${day(status.fallSince)}.`] : []),
      ];
    }
    default: {
      if (event === 'cleared') {
        return [`case movements again${status.last ? ` (latest ${when(status.last, nowMs)})` : ''}`];
      }
      const quiet = status.last
        ? ` since ${when(status.last, nowMs)} (${quietFor(nowMs - Date.parse(status.last))})`
        : '';
      const expected =
        status.expected !== undefined ? `; normally ~${Math.max(1, Math.round(status.expected))} by now` : '';
      return [
        `no case movements${quiet}${expected}`,
        ...(status.kind === 'feed-stopped' ? ['The feed may be down.'] : []),
      ];
    }
  }
}

export function renderSms(
  status: SignalStatus,
  event: SignalEvent,
  config: CompiledConfig,
  nowMs: number,
): string {
  const head = event === 'cleared' ? 'QW CLEARED' : 'QW SIGNAL';
  const [facts, ...extra] = seen(status, config, event, nowMs);
  const link = config.file.linkBase;
  // Fullest first; then without the extra sentence, the district's name, the link.
  const where = capital(place(status, config));
  const short = capital(place(status, config, true));
  const candidates = [
    `${head} ${where}: ${facts}. ${[...extra, link].join(' ')}`,
    `${head} ${where}: ${facts}. ${link}`,
    `${head} ${short}: ${facts}. ${link}`,
    `${head} ${short}: ${facts}.`,
  ];
  for (const sms of candidates) if (fitsOneSegment(sms)) return sms;
  // Unreachable with a valid config (labels and names are short); cut to fit regardless.
  return (candidates.at(-1) as string).slice(0, 150);
}

function what(status: SignalStatus, config: CompiledConfig, event: SignalEvent): string {
  const label = labelOf(status, config);
  const where = place(status, config);
  if (status.kind === 'flow-stopped') {
    return event === 'cleared'
      ? `Case movements in ${where} have resumed`
      : `Case movements in ${where} have stopped`;
  }
  if (status.kind === 'feed-stopped') {
    return event === 'cleared'
      ? 'Case movements from the feed have resumed'
      : 'Case movements from the feed have stopped in every district';
  }
  return `${capital(label)} in ${where} ${event === 'cleared' ? 'are back to normal' : 'are below normal'}`;
}

const descriptionOf = (status: SignalStatus, config: CompiledConfig) =>
  [...config.signals.rates, ...config.signals.proportions].find((s) => s.id === status.signal)?.description;

const ADVICE: Record<SignalStatus['kind'], string> = {
  rate: 'Check that referrals are being made and recorded in this district, and that nothing upstream (a queue, a team, a form) has stopped them. Sign in to see the district’s cases',
  proportion:
    'Check that child-involved cases leaving assessment are being referred to children’s services, and that referrals are recorded. Sign in to see the district’s cases',
  'flow-stopped':
    'Check that the district’s cases are being worked and that its part of the feed from the case system is running. Sign in to see the district’s queue',
  'feed-stopped':
    'Check the feed from the case system (ops: the ingest queue and the ingest function). Until it runs again the mirror, and every alert, is going stale. Sign in to see the queue',
};

export function renderEmail(
  status: SignalStatus,
  event: SignalEvent,
  config: CompiledConfig,
  nowMs: number,
): { subject: string; body: string } {
  const label = labelOf(status, config);
  const where = place(status, config);
  const stopped = status.kind === 'flow-stopped' || status.kind === 'feed-stopped';
  const subject =
    event === 'cleared'
      ? `[queuewatch] CLEARED: ${stopped ? 'case movements resumed' : `${label} back to normal`} in ${where}`
      : `[queuewatch] SIGNAL${event === 'repeat' ? ' (still)' : ''}: ${stopped ? 'no case movements' : `${label} low`} in ${where}`;
  const settings = config.signals.settings;
  const body: string[] = [];
  const at = formatLondonLong(nowMs);
  if (event === 'cleared') {
    body.push(`${what(status, config, event)}, as of ${at}.`, '');
    if (status.kind === 'rate') {
      body.push(
        `Seen: ${status.observed} in the last ${status.days} days judged (normal about ${Math.round(status.expected)}).`,
      );
    } else if (status.kind === 'proportion') {
      const share = status.trials > 0 ? ` (${pct(status.successes / status.trials)})` : '';
      body.push(`Seen: ${status.successes} of ${status.trials} in the last ${status.days} days${share}.`);
    } else if (status.last) {
      body.push(`The latest transition was at ${formatLondonLong(Date.parse(status.last))}.`);
    }
    body.push(
      'The signal raised earlier has cleared. Nothing more will be sent about it unless it falls again.',
    );
  } else {
    body.push(`${what(status, config, event)}, as of ${at}.`, '');
    const description = descriptionOf(status, config);
    if (description)
      body.push(`The signal counts: ${description.charAt(0).toLowerCase()}${description.slice(1)}.`);
    switch (status.kind) {
      case 'rate':
        body.push(
          `Seen: ${status.observed} in the last ${status.days} days judged.`,
          `Normal for ${where}: about ${Math.round(status.expected)} over those days (the same weekdays of the last ${settings.baselineWeeks} weeks, bank holidays and earlier alarms left out).`,
        );
        break;
      case 'proportion':
        body.push(
          `Seen: ${status.successes} of ${status.trials} in the last ${status.days} days${status.trials > 0 ? ` (${pct(status.successes / status.trials)})` : ''}.`,
          status.against === 'floor'
            ? `That is below the floor of ${pct(status.normal ?? 0)} set in the config (the district's own normal is ${status.learningUntil ? `still being learned, until about ${day(status.learningUntil)}` : 'below the floor too'}).`
            : `Normal for ${where}: ${pct(status.normal ?? 0)} (the last ${settings.baselineWeeks} weeks, bank holidays and earlier alarms left out).`,
        );
        break;
      default:
        body.push(
          status.last
            ? `The latest transition was at ${formatLondonLong(Date.parse(status.last))}, ${quietFor(nowMs - Date.parse(status.last))} ago.`
            : 'No transition has been recorded.',
          status.expected !== undefined
            ? `At ${status.kind === 'feed-stopped' ? 'the feed' : 'the district'}'s usual pace for these hours about ${Math.max(1, Math.round(status.expected))} would have happened since. A silence this long happens by chance less than once in ${settings.falseAlarmDays} days.`
            : '',
        );
    }
    if ((status.kind === 'rate' || status.kind === 'proportion') && status.fallSince) {
      body.push(`It appears to have started on or about ${day(status.fallSince)} (the detector's estimate).`);
    }
    body.push(
      '',
      `What to do: ${ADVICE[status.kind]}: ${config.file.linkBase}`,
      '',
      status.kind.endsWith('stopped')
        ? `This is sent again every ${formatAge(config.signals.flowRepeatMs)} while the silence lasts, and once when movements resume.`
        : `How it is judged: each day adds evidence of a fall (a one-sided CUSUM), and the signal is raised when the evidence reaches a limit set so that normal traffic raises it by chance about once in ${settings.falseAlarmDays} days. It is sent again every ${formatAge(config.signals.repeatMs)} while it stays low, and once when it is back to normal.`,
    );
  }
  body.push(
    '',
    'This message carries district counts only, no case and no person. Do not forward it outside the force.',
  );
  return {
    subject: subject.length < 100 ? subject : `${subject.slice(0, 98)}…`,
    body: body.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n'),
  };
}

export function renderSignal(
  status: SignalStatus,
  event: SignalEvent,
  config: CompiledConfig,
  nowMs: number,
): RenderedSignal {
  return { sms: renderSms(status, event, config, nowMs), email: renderEmail(status, event, config, nowMs) };
}
