// The acknowledgement pages: plain, accessible HTML with no script, one small stylesheet allowed by
// its hash, and headers that keep them out of caches, frames, referrers and search engines. They
// show only what an alert may carry: the place, the audience, times, and each case's reference,
// category, risk level, stage and age. Every value is escaped.

import { createHash } from 'node:crypto';
import { formatLondon } from '../domain/calendar.ts';
import { formatAge } from '../domain/duration.ts';
import { LEVELS_HIGHEST_FIRST, type Level } from '../domain/levels.ts';
import type { AckLinkRecord } from './ports.ts';

export interface Page {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;font-size:1.05rem;line-height:1.5;color:#0b0c0c;background:#fff;margin:0;padding:1rem}',
  'main{max-width:44rem;margin:0 auto}',
  'h1{font-size:1.6rem;margin:.5rem 0 1rem}',
  'table{border-collapse:collapse;width:100%;margin:0 0 1.5rem}',
  'caption{text-align:left;font-weight:700;font-size:1.2rem;padding:.5rem 0}',
  'th,td{text-align:left;vertical-align:top;padding:.3rem .6rem .3rem 0;border-bottom:1px solid #b1b4b6}',
  '.meta{color:#505a5f}',
  'button{font:inherit;font-weight:700;padding:.6rem 1.2rem;color:#fff;background:#00703c;border:0;border-bottom:3px solid #002d18;cursor:pointer}',
  'button:focus,a:focus{outline:3px solid #fd0;outline-offset:0}',
].join('\n');

/** The one stylesheet, allowed by its hash: no inline script or other style can run. */
const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}`;

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': `default-src 'none'; style-src '${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'X-Robots-Tag': 'noindex, nofollow',
  'Strict-Transport-Security': 'max-age=31536000',
};

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A pause or validity for people, exactly (never rounded down): "4 hours", "1 hour 30 minutes",
 * "3 days", "2 days 6 hours". */
function duration(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const [days, restHours] = hours > 48 ? [Math.floor(hours / 24), hours % 24] : [0, hours];
  const parts = [
    days > 0 ? plural(days, 'day') : '',
    restHours > 0 ? plural(restHours, 'hour') : '',
    minutes % 60 > 0 ? plural(minutes % 60, 'minute') : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : plural(0, 'minute');
}

/** A link to the case system, only if it is a web address (it comes from the config). */
function caseSystemLink(url: string | undefined, text: string): string {
  if (!url || !/^https?:\/\//.test(url)) return `${escapeHtml(text)} (sign-in required).`;
  return `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a> (sign-in required).`;
}

function page(
  statusCode: number,
  title: string,
  content: string[],
  extraHeaders: Record<string, string> = {},
): Page {
  const body = [
    '<!doctype html>',
    '<html lang="en-GB">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${escapeHtml(title)} - queuewatch</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...content,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { statusCode, headers: { ...SECURITY_HEADERS, ...extraHeaders }, body };
}

const levelsOf = (link: AckLinkRecord): Level[] =>
  LEVELS_HIGHEST_FIRST.filter((l) => link.sections[l] !== undefined);

const casesIn = (link: AckLinkRecord) =>
  levelsOf(link).reduce((n, l) => n + (link.sections[l]?.count ?? 0), 0);

function caseTables(link: AckLinkRecord): string[] {
  const out: string[] = [];
  for (const level of levelsOf(link)) {
    const s = link.sections[level];
    if (!s) continue;
    out.push(
      '<table>',
      `<caption>${escapeHtml(level.toUpperCase())}: ${plural(s.count, 'case')}</caption>`,
      '<thead><tr><th scope="col">Case reference</th><th scope="col">Category</th><th scope="col">Risk level</th><th scope="col">Stage</th><th scope="col">Age when sent</th></tr></thead>',
      '<tbody>',
      ...s.lines.map(
        (c) =>
          `<tr><td>${escapeHtml(c.caseRef)}</td><td>${escapeHtml(c.category)}</td><td>${escapeHtml(c.riskLevel)}</td><td>${escapeHtml(c.stage)}</td><td>${escapeHtml(formatAge(c.ageMs))}</td></tr>`,
      ),
      '</tbody>',
      '</table>',
    );
    if (s.count > s.lines.length) {
      out.push(`<p>And ${s.count - s.lines.length} more at ${escapeHtml(level)}: see the case system.</p>`);
    }
  }
  return out;
}

/** The listed levels the audience is reminded of (a link made before this was kept: every one). */
const remindedOf = (link: AckLinkRecord) => {
  const listed = levelsOf(link);
  return link.remindedAt ? listed.filter((l) => link.remindedAt?.includes(l)) : listed;
};

const who = (link: AckLinkRecord) => `the ${escapeHtml(link.audienceName)} at ${escapeHtml(link.placeName)}`;

/** What opening a link shows: the alert's cases, a link to the case system and the button. Showing it
 * changes nothing. `notice` explains why it is shown again after a POST that did not count. */
export function linkPage(link: AckLinkRecord, options: { statusCode?: number; notice?: string } = {}): Page {
  const reminded = remindedOf(link);
  const pauses = reminded.map((l) => `${duration(link.pauseMs[l] ?? 0)} at ${escapeHtml(l)}`).join(', ');
  const what =
    reminded.length > 0
      ? `Reminders about them to ${who(link)} then pause: ${pauses}.`
      : `It records that you own them; ${who(link)} gets no reminders about them to pause.`;
  return page(options.statusCode ?? 200, `Alert for ${link.placeName}`, [
    `<h1>Alert for ${escapeHtml(link.placeName)}</h1>`,
    ...(options.notice ? [`<p><strong>${escapeHtml(options.notice)}</strong></p>`] : []),
    `<p class="meta">To ${who(link)} (${escapeHtml(link.audience)}). Sent ${escapeHtml(formatLondon(link.sentAtMs))} by ${link.channel === 'sms' ? 'SMS' : 'email'}.</p>`,
    ...caseTables(link),
    `<p>${caseSystemLink(link.linkBase, 'Open the cases in the case system')}</p>`,
    '<h2>Acknowledge</h2>',
    `<p>If you are dealing with these cases, press the button. ${what}</p>`,
    '<p>Acknowledging does not stop an alert when a case reaches its next level, and it does not close anything: only the case moving on in the case system ends the alerts.</p>',
    '<form method="post">',
    '<button type="submit" name="acknowledge" value="yes">Acknowledge these alerts</button>',
    '</form>',
    `<p class="meta">This link works once, until ${escapeHtml(formatLondon(link.expiresAtMs))}. Opening it changes nothing.</p>`,
  ]);
}

/** After the button: what was acknowledged, and until when reminders pause. */
export function acknowledgedPage(
  link: AckLinkRecord,
  atMs: number,
  until: Partial<Record<Level, number>>,
): Page {
  const reminded = remindedOf(link);
  const pauses = reminded.map(
    (l) => `<li>${escapeHtml(l)}: until ${escapeHtml(formatLondon(until[l] ?? atMs))}</li>`,
  );
  return page(200, 'Acknowledged', [
    '<h1>Acknowledged</h1>',
    `<p>At ${escapeHtml(formatLondon(atMs))} you acknowledged the alert sent ${escapeHtml(formatLondon(link.sentAtMs))} to ${who(link)}, listing ${plural(casesIn(link), 'case')}.</p>`,
    ...(reminded.length > 0
      ? ['<p>Reminders about these cases pause:</p>', `<ul>${pauses.join('')}</ul>`]
      : [`<p>It is recorded that you own these cases (${who(link)} gets no reminders about them).</p>`]),
    '<p>You will still be alerted if a case reaches its next level. Only the case moving on in the case system ends the alerts.</p>',
    `<p>${caseSystemLink(link.linkBase, 'Open the cases in the case system')}</p>`,
  ]);
}

/** For every link that cannot be used (unknown, forged, expired, used): the same words, whatever the
 * reason, so the page tells a guesser nothing. */
export function refusedPage(caseSystemUrl: string | undefined): Page {
  return page(404, 'Link not valid', [
    '<h1>This link is not valid any more</h1>',
    `<p>${caseSystemLink(caseSystemUrl, 'Open the case system')}</p>`,
  ]);
}

/** The acknowledgement failed. `released`: the link was given back and still works (otherwise it
 * may or may not: giving it back failed, or was cut off); `unknown`: it
 * may have been stored after all (its call timed out, or the service failed after it may have
 * written). Each page says only what is known, and what to do. */
export function failedPage(
  { released, unknown }: { released: boolean; unknown: boolean } = { released: true, unknown: false },
  caseSystemUrl?: string,
): Page {
  const caseSystem = `<p>${caseSystemLink(caseSystemUrl, 'Open the case system')}</p>`;
  const content = unknown
    ? released
      ? [
          '<h1>Not confirmed</h1>',
          '<p>Your acknowledgement could not be confirmed: it may or may not have been recorded. To be sure, please go back and press the button again in a minute. Pressing twice does no harm.</p>',
        ]
      : [
          '<h1>Not confirmed</h1>',
          '<p>Your acknowledgement could not be confirmed: it may or may not have been recorded, and this link may not work again. If it was not recorded, reminders continue as before, and the next one carries a new link.</p>',
          caseSystem,
        ]
    : released
      ? [
          '<h1>Not acknowledged yet</h1>',
          '<p>Your acknowledgement could not be recorded just now, so nothing has changed. Please go back and press the button again in a minute.</p>',
        ]
      : [
          '<h1>Not acknowledged</h1>',
          '<p>Your acknowledgement could not be recorded, and this link may not work again. Reminders continue as before, and the next one carries a new link.</p>',
          caseSystem,
        ];
  return page(
    503,
    unknown ? 'Not confirmed' : 'Not acknowledged',
    content,
    released ? { 'Retry-After': '60' } : {},
  );
}

/** Something failed before anything could change (a table unreachable). */
export function unavailablePage(): Page {
  return page(
    503,
    'Not available',
    ['<h1>Not available just now</h1>', '<p>Nothing has changed. Please try the link again in a minute.</p>'],
    { 'Retry-After': '60' },
  );
}

export function methodNotAllowedPage(): Page {
  return page(405, 'Not allowed', ['<h1>Not allowed</h1>', '<p>Open the link from your alert.</p>'], {
    Allow: 'GET, POST',
  });
}
