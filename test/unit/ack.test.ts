// Acknowledgement, end to end in memory: the scan makes a short single-use link per message and
// channel; opening it only shows a page; only the button's POST acknowledges, for that link's
// audience and place alone; forged, unknown, expired, reused and half-made requests change nothing;
// reminders pause and resume, escalation never waits; no page shows anything but what an alert may.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AckLinkError, TokenAckLinks } from '#shared/ack/links.ts';
import type { AckLinkRecord, AckLinkStore } from '#shared/ack/ports.ts';
import { type AckDeps, respond } from '#shared/ack/respond.ts';
import { newToken, TOKEN_PATTERN, tokenHash } from '#shared/ack/token.ts';
import { MemoryAckLinkStore } from '#shared/adapters/memory-ack-links.ts';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import type { CompiledConfig } from '#shared/config/compile.ts';
import { loadConfig } from '#shared/config/load.ts';
import { ALL_SHARDS } from '#shared/domain/shards.ts';
import type { AckLinkRequest, AckStore, OpenCaseSource, OutgoingMessage } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import {
  aCaseView,
  configWith,
  fitsOneSmsSegment,
  HOUR,
  iso,
  MINUTE,
  piiMarkerIn,
} from '#test/support/fixtures.ts';

const config = loadConfig();
const T0 = Date.parse('2026-11-27T09:00:00Z'); // a Friday, 09:00 London
const BASE = 'https://ack.example.org';
const SUPERVISOR = 'district-supervisor@D01';
const INSPECTOR = 'duty-inspector@D01';

type Item = Record<string, unknown>;
const daHigh = (caseRef: string, enteredMs: number, extra: Item = {}): Item => ({
  ...aCaseView({ caseRef, stageEnteredAt: iso(enteredMs) }),
  ...extra,
});

function harness(withConfig: CompiledConfig = config) {
  const ledger = new MemoryLedger();
  const links = new MemoryAckLinkStore();
  const audit = new MemoryAuditLog();
  let items: Item[] = [];
  const source: OpenCaseSource = {
    shards: () => [ALL_SHARDS],
    async *pages() {
      yield items;
    },
  };
  let sent: Array<OutgoingMessage & { at: number }> = [];
  const run = async (nowMs: number) => {
    sent = [];
    const result = await runScan({
      config: withConfig,
      nowMs,
      runId: `run-${nowMs}`,
      source,
      ledger,
      publisher: new CallbackPublisher((m) => sent.push({ ...m, at: nowMs })),
      audit: new MemoryAuditLog(),
      links: new TokenAckLinks(links, { baseUrl: BASE, config: async () => withConfig }),
      retry: { attempts: 1, baseDelayMs: 0 },
    });
    expect(result.failures).toEqual([]);
    return sent;
  };
  const deps: AckDeps = {
    links,
    acks: ledger,
    audit,
    caseSystemUrl: withConfig.file.linkBase,
    retry: { attempts: 1, baseDelayMs: 0 },
  };
  const get = (token: string, nowMs: number) => respond({ method: 'GET', token }, deps, nowMs);
  const press = (token: string, nowMs: number, body = 'acknowledge=yes') =>
    respond({ method: 'POST', token, body }, deps, nowMs);
  return { ledger, links, audit, deps, run, get, press, set: (next: Item[]) => (items = next) };
}

const to = (group: string, messages: OutgoingMessage[]) => messages.filter((m) => m.groups.includes(group));

/** The token of a message's acknowledgement link, by channel. */
function tokenIn(message: OutgoingMessage | undefined, channel: 'sms' | 'email'): string {
  const text = channel === 'sms' ? message?.sms : message?.email?.body;
  const found = text?.match(/https:\/\/ack\.example\.org\/([0-9A-Za-z]+)/)?.[1];
  if (!found) throw new Error(`no ${channel} acknowledgement link in the message`);
  return found;
}

/** A token-shaped string that was never issued. */
const forged = () => newToken();

describe('acknowledgement links', () => {
  it('puts a short link in each SMS and email, and the SMS still fits one segment', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR), daHigh('DA-000-0000002', T0 - 49 * HOUR)]);

    const [message] = to(SUPERVISOR, await h.run(T0));

    const sms = message?.sms ?? '';
    expect(sms.split('\n').at(-1)).toMatch(/^https:\/\/ack\.example\.org\/[0-9A-Za-z]{10}$/);
    expect(fitsOneSmsSegment(sms)).toBe(true);
    expect(sms).toContain('DA-000-0000001');
    expect(tokenIn(message, 'email')).not.toBe(tokenIn(message, 'sms'));
  });

  it('binds each link to its audience, place, channel, send time, levels and cases, storing only its hash', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR), daHigh('DA-000-0000002', T0 - 30 * HOUR)]);

    const [message] = to(SUPERVISOR, await h.run(T0));
    const token = tokenIn(message, 'sms');

    expect([...h.links.links.keys()].some((key) => key.includes(token))).toBe(false);
    expect(h.links.links.get(tokenHash(token))).toEqual({
      tokenHash: tokenHash(token),
      audience: 'district-supervisor',
      audienceName: 'On-call public protection supervisor for the district',
      place: 'D01',
      placeName: 'D01 Northgate',
      district: 'D01',
      localAuthority: 'la-northgate',
      channel: 'sms',
      runId: `run-${T0}`,
      sentAtMs: T0,
      expiresAtMs: T0 + 24 * HOUR,
      sections: {
        escalation: {
          count: 1,
          lines: [
            {
              caseRef: 'DA-000-0000001',
              category: 'domestic-abuse',
              riskLevel: 'high',
              stage: 'awaiting-risk-assessment',
              ageMs: 50 * HOUR,
            },
          ],
        },
        breach: {
          count: 1,
          lines: [
            {
              caseRef: 'DA-000-0000002',
              category: 'domestic-abuse',
              riskLevel: 'high',
              stage: 'awaiting-risk-assessment',
              ageMs: 30 * HOUR,
            },
          ],
        },
      },
      pauseMs: { breach: 8 * HOUR, escalation: 4 * HOUR },
      remindedAt: ['breach', 'escalation'],
      linkBase: 'https://qw.example.police.uk/q',
    });
  });

  it("names a local authority's districts for an audience that subscribes by local authority", async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);

    const [message] = to('marac-coordinator@la-northgate', await h.run(T0));

    expect(h.links.links.get(tokenHash(tokenIn(message, 'email')))).toMatchObject({
      place: 'la-northgate',
      district: 'D01',
      localAuthority: 'la-northgate',
    });
  });

  it("uses the config's public address when it sets one", async () => {
    const h = harness(
      configWith(['# baseUrl: https://qw.example.police.uk/a', 'baseUrl: https://qw.example.police.uk/a']),
    );
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);

    const [message] = to(SUPERVISOR, await h.run(T0));

    expect(message?.sms?.split('\n').at(-1)).toMatch(
      /^https:\/\/qw\.example\.police\.uk\/a\/[0-9A-Za-z]{10}$/,
    );
  });

  it('refuses to make a link with no public address at all', async () => {
    const links = new TokenAckLinks(new MemoryAckLinkStore(), { config: async () => config });

    await expect(links.create([linkRequest()])).rejects.toThrow(AckLinkError);
  });

  it('draws another token when a hash is taken, and gives up rather than overwrite', async () => {
    const taken = new MemoryAckLinkStore();
    let refusals = 1;
    const flaky: AckLinkStore = {
      ...taken,
      put: async (record) => (refusals-- > 0 ? false : taken.put(record)),
      get: (hash) => taken.get(hash),
      consume: (hash, now, use) => taken.consume(hash, now, use),
      release: (hash, use) => taken.release(hash, use),
    };
    const full: AckLinkStore = { ...flaky, put: async () => false };

    const [link] = await new TokenAckLinks(flaky, { baseUrl: BASE, config: async () => config }).create([
      linkRequest(),
    ]);

    expect(taken.links.size).toBe(1);
    expect(link).toMatch(/^https:\/\/ack\.example\.org\/[0-9A-Za-z]{10}$/);
    await expect(
      new TokenAckLinks(full, { baseUrl: BASE, config: async () => config }).create([linkRequest()]),
    ).rejects.toThrow(/no unused token after 3 attempts/);
  });
});

describe('tokens', () => {
  it('are 10 base62 characters, all different', () => {
    const tokens = new Set(Array.from({ length: 2000 }, () => newToken()));
    expect(tokens.size).toBe(2000);
    for (const token of tokens) expect(token).toMatch(TOKEN_PATTERN);
  });

  it('skip random bytes that would bias the alphabet', () => {
    const bytes = [255, 248, 0, 61, 62, 247, 123, 200, 10, 20, 30, 40, 250];
    let calls = 0;
    const token = newToken((size) => {
      calls += 1;
      return Buffer.from(Array.from({ length: size }, (_, i) => bytes[i % bytes.length] as number));
    });
    // 0 → '0', 61 → 'z', 62 → '0', 247 → 247 % 62 = 61 → 'z', 123 → 61 → 'z', 200 → 14 → 'E', ...
    expect(token).toBe('0z0zzEAKUe');
    expect(calls).toBe(1);
  });
});

describe('the page', () => {
  it('shows the alert when opened and changes nothing, however often it is opened', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');
    const before = structuredClone(h.links.links.get(tokenHash(token)));

    const first = await h.get(token, T0 + 5 * MINUTE);
    const second = await h.get(token, T0 + 10 * MINUTE);

    for (const { page } of [first, second]) {
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('D01 Northgate');
      expect(page.body).toContain('<td>DA-000-0000001</td>');
      expect(page.body).toContain('ESCALATION: 1 case');
      expect(page.body).toContain('<td>2d 2h</td>');
      expect(page.body).toContain('<form method="post">');
      expect(page.body).toContain('<a href="https://qw.example.police.uk/q">');
      expect(page.body).toContain('pause: 4 hours at escalation');
    }
    expect(first.outcome).toMatchObject({ kind: 'shown', audience: 'district-supervisor', place: 'D01' });
    expect(h.links.links.get(tokenHash(token))).toEqual(before);
    expect(h.ledger.acks.size).toBe(0);
    expect(h.audit.entries).toEqual([]);
    // Nobody pressed the button: the reminder goes on time.
    expect(to(SUPERVISOR, await h.run(T0 + 4 * HOUR)).length).toBe(1);
  });

  it('tells an audience that is never reminded (a director) that acknowledging says who owns the cases, not that it pauses anything', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR, { childrenInvolved: true })]);
    const sent = await h.run(T0);
    const [director] = to('director-childrens-services@la-northgate', sent);
    const token = tokenIn(director, 'email');

    const shown = await h.get(token, T0 + MINUTE);
    const pressed = await h.press(token, T0 + 2 * MINUTE);

    expect(director?.email?.body).toContain(
      'acknowledge this message to say you own them: https://ack.example.org/',
    );
    expect(director?.email?.body).not.toContain('pause its reminders');
    expect(shown.page.body).toContain('It records that you own them;');
    expect(shown.page.body).not.toContain('then pause');
    expect(pressed.page.body).toContain('It is recorded that you own these cases');
    expect(pressed.page.body).not.toContain('Reminders about these cases pause');
    // The supervisor, reminded every 4 hours, is still told the button pauses them.
    expect(to(SUPERVISOR, sent)[0]?.email?.body).toContain('acknowledge this message to pause its reminders');
  });

  it("acknowledges on the button's POST: that audience's reminders pause, the disclosure log says so, the link is used up", async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');
    const at = T0 + 30 * MINUTE;

    const { page, outcome } = await h.press(token, at);

    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Acknowledged</h1>');
    expect(outcome).toMatchObject({ kind: 'acknowledged', audience: 'district-supervisor', cases: 1 });
    expect([...h.ledger.acks.values()]).toEqual([
      { audience: 'district-supervisor', place: 'D01', asOf: T0, at, until: { escalation: at + 4 * HOUR } },
    ]);
    expect(h.audit.entries).toEqual([
      {
        sentAt: new Date(at).toISOString(),
        messageId: `ack:${tokenHash(token).slice(0, 12)}`,
        runId: `run-${T0}`,
        kind: 'acknowledgement',
        audience: 'district-supervisor',
        district: 'D01',
        localAuthority: 'la-northgate',
        level: ['escalation'],
        caseRefs: ['DA-000-0000001'],
        resolvedCaseRefs: [],
        reason: 'acknowledged by the SMS link of the message sent 2026-11-27T09:00:00.000Z',
      },
    ]);
    expect((await h.get(token, at + MINUTE)).outcome).toMatchObject({ kind: 'refused', reason: 'used' });
  });

  it('refuses forged, unknown, malformed, expired and reused links with one plain page, changing nothing', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const [message] = to(SUPERVISOR, await h.run(T0));
    const used = tokenIn(message, 'sms');
    const old = tokenIn(message, 'email');
    await h.press(used, T0 + MINUTE);
    const acksBefore = structuredClone([...h.ledger.acks.values()]);

    const attempts = [
      ['unknown', await h.press(forged(), T0 + 2 * MINUTE)],
      ['unknown', await h.get(forged(), T0 + 2 * MINUTE)],
      ['malformed', await h.press('../../etc', T0 + 2 * MINUTE)],
      ['malformed', await h.get(`${used}x`, T0 + 2 * MINUTE)],
      ['used', await h.press(used, T0 + 2 * MINUTE)],
      ['expired', await h.get(old, T0 + 24 * HOUR)],
      ['expired', await h.press(old, T0 + 25 * HOUR)],
    ] as const;

    const bodies = new Set(attempts.map(([, r]) => r.page.body));
    expect(bodies.size).toBe(1);
    for (const [reason, result] of attempts) {
      expect(result.page.statusCode).toBe(404);
      expect(result.page.body).toContain('This link is not valid any more');
      expect(result.page.body).toContain('<a href="https://qw.example.police.uk/q">Open the case system</a>');
      expect(result.outcome).toMatchObject({ kind: 'refused', reason });
      expect(result.outcome).not.toHaveProperty('audience');
    }
    expect([...h.ledger.acks.values()]).toEqual(acksBefore);
    expect(h.audit.entries).toHaveLength(1);
    expect(h.links.links.get(tokenHash(old))?.usedAtMs).toBeUndefined();
  });

  it("acknowledges nothing for a POST without the button's own field, or sent from another site", async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'email');

    const scripted = await h.press(token, T0 + MINUTE, ''); // form.submit() leaves the button out
    const other = await h.press(token, T0 + MINUTE, 'acknowledge=no');
    const crossSite = await respond(
      { method: 'POST', token, body: 'acknowledge=yes', fetchSite: 'cross-site' },
      h.deps,
      T0 + MINUTE,
    );

    for (const result of [scripted, other, crossSite]) {
      expect(result.page.statusCode).toBe(400);
      expect(result.page.body).toContain('Nothing was acknowledged');
    }
    expect(scripted.outcome).toMatchObject({ kind: 'unconfirmed', why: 'no-button' });
    expect(crossSite.outcome).toMatchObject({ kind: 'unconfirmed', why: 'cross-site' });
    expect(h.ledger.acks.size).toBe(0);
    // The link still works for the person.
    expect((await h.press(token, T0 + 2 * MINUTE)).outcome.kind).toBe('acknowledged');
  });

  it('lets only one of two simultaneous presses acknowledge', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');

    const results = await Promise.all([h.press(token, T0 + MINUTE), h.press(token, T0 + MINUTE)]);

    expect(results.map((r) => r.outcome.kind).sort()).toEqual(['acknowledged', 'refused']);
    expect(h.audit.entries).toHaveLength(1);
  });

  it('answers other methods with 405 and reads nothing', async () => {
    const h = harness();
    const { page, outcome } = await respond({ method: 'DELETE', token: forged() }, h.deps, T0);
    expect(page.statusCode).toBe(405);
    expect(page.headers.Allow).toBe('GET, POST');
    expect(outcome).toEqual({ kind: 'method-not-allowed', method: 'DELETE' });
  });

  /** A service error as the SDK throws it: a name and the HTTP status it answered with. */
  const serviceError = (name: string, httpStatusCode: number) =>
    Object.assign(new Error('down'), { name, $metadata: { httpStatusCode } });
  const refused: AckStore = {
    acknowledge: async () => {
      throw serviceError('ProvisionedThroughputExceededException', 400);
    },
  };
  const failedAfter: AckStore = {
    acknowledge: async () => {
      throw serviceError('InternalServerError', 500);
    },
  };
  const stalled: AckStore = { acknowledge: () => new Promise(() => undefined) };
  const failsThenRefused = (): AckStore => {
    let tries = 0;
    return {
      acknowledge: async () => {
        tries += 1;
        throw tries === 1
          ? serviceError('InternalServerError', 500)
          : serviceError('ProvisionedThroughputExceededException', 400);
      },
    };
  };
  const pressAgain = 'press the button again in a minute';
  it.each([
    // Refused: known not to be stored.
    { what: 'is refused', acks: refused, error: 'ProvisionedThroughputExceededException', unknown: false },
    // The service failed, or the call never ended: it may be stored. The page says so, the person is
    // asked to press again to be sure, and the disclosure-log entry goes to the function's log.
    { what: 'fails in the service', acks: failedAfter, error: 'InternalServerError', unknown: true },
    { what: 'never answers', acks: stalled, error: 'DeadlineExceeded', unknown: true },
    // An earlier try may have written, though the last was refused: still not known.
    {
      what: 'fails in the service, then is refused',
      acks: failsThenRefused(),
      error: 'ProvisionedThroughputExceededException',
      unknown: true,
    },
  ])(
    'gives the link back when the acknowledgement $what, saying only what is known',
    async ({ acks, error, unknown }) => {
      const h = harness();
      h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
      const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');

      const failed = await respond(
        { method: 'POST', token, body: 'acknowledge=yes' },
        {
          ...h.deps,
          acks,
          retry: { attempts: 2, baseDelayMs: 0 },
          budget: { ackMs: 50, afterMs: 100, hardMs: 150 },
        },
        T0 + MINUTE,
      );
      const again = await h.press(token, T0 + 2 * MINUTE);

      expect(failed.page.statusCode).toBe(503);
      expect(failed.page.body).toContain(pressAgain);
      expect(failed.page.body).toContain(
        unknown ? 'may or may not have been recorded' : 'nothing has changed',
      );
      expect(failed.outcome).toMatchObject({ kind: 'failed', error, released: true });
      expect(failed.outcome).toEqual(
        unknown
          ? expect.objectContaining({
              ifStored: expect.objectContaining({ kind: 'acknowledgement', caseRefs: ['DA-000-0000001'] }),
            })
          : expect.not.objectContaining({ ifStored: expect.anything() }),
      );
      expect(again.outcome.kind).toBe('acknowledged');
      expect(h.audit.entries).toHaveLength(1);
    },
  );

  it('says the link may not work again when it could not be given back, never "press again"', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');
    const down = (name: string, httpStatusCode: number) => async () => {
      throw serviceError(name, httpStatusCode);
    };
    const links = new MemoryAckLinkStore();
    for (const [hash, link] of h.links.links) links.links.set(hash, structuredClone(link));
    links.release = down('InternalServerError', 500);

    const failed = await respond(
      { method: 'POST', token, body: 'acknowledge=yes' },
      { ...h.deps, links, acks: { acknowledge: down('ProvisionedThroughputExceededException', 400) } },
      T0 + MINUTE,
    );

    expect(failed.outcome).toMatchObject({ kind: 'failed', released: false });
    expect(failed.page.statusCode).toBe(503);
    expect(failed.page.body).toContain('this link may not work again');
    expect(failed.page.body).not.toContain('press the button again');
    expect(failed.page.body).toContain('<a href="https://qw.example.police.uk/q">Open the case system</a>');
    expect(
      (await respond({ method: 'GET', token }, { ...h.deps, links }, T0 + 2 * MINUTE)).page.statusCode,
    ).toBe(404);
  });

  it('says in the disclosure log how many cases the acknowledgement covers when the message counted more than it listed', async () => {
    const h = harness();
    const refs = Array.from({ length: 305 }, (_, i) => `DA-000-${String(i + 1).padStart(7, '0')}`);
    h.set(refs.map((ref) => daHigh(ref, T0 - 50 * HOUR)));
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'email');

    const { outcome } = await h.press(token, T0 + MINUTE);

    expect(outcome).toMatchObject({ kind: 'acknowledged', cases: 305 });
    const [entry] = h.audit.entries;
    expect(entry?.caseRefs).toHaveLength(300);
    expect(entry?.reason).toMatch(/covering 305 cases: the 300 listed here and 5 more the message counted/);
  });

  it('shows a pause that is not a whole number of hours exactly, never rounded down', async () => {
    const h = harness(
      configWith([
        'pause: { warning: 24h, breach: 8h, escalation: 4h }',
        'pause: { warning: 24h, breach: 8h, escalation: 90m }',
      ]),
    );
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');

    expect((await h.get(token, T0 + MINUTE)).page.body).toContain('pause: 1 hour 30 minutes at escalation');
  });

  it.each([
    {
      what: 'could not take',
      record: async () => {
        throw Object.assign(new Error('down'), { name: 'InternalServerError' });
      },
      error: 'InternalServerError',
    },
    {
      what: 'did not answer by its deadline',
      record: () => new Promise<void>(() => undefined),
      error: 'DeadlineExceeded',
    },
  ])(
    'keeps an acknowledgement the disclosure log $what, and hands its entry back for the log',
    async ({ record, error }) => {
      const h = harness();
      h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
      const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');

      const { page, outcome } = await respond(
        { method: 'POST', token, body: 'acknowledge=yes' },
        { ...h.deps, audit: { record }, budget: { ackMs: 50, afterMs: 100, hardMs: 150 } },
        T0 + MINUTE,
      );

      expect(page.statusCode).toBe(200);
      expect(h.ledger.acks.size).toBe(1);
      expect(outcome).toMatchObject({
        kind: 'acknowledged',
        auditError: error,
        unaudited: { kind: 'acknowledgement', caseRefs: ['DA-000-0000001'] },
      });
    },
  );
});

describe('what an acknowledgement does to reminders', () => {
  it("pauses that audience's reminders for the pause, then they resume", async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]); // escalation; reminders every 4h
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');
    await h.press(token, T0 + HOUR); // pauses escalation reminders until T0 + 5h

    const dueButPaused = await h.run(T0 + 4 * HOUR);
    const resumed = await h.run(T0 + 5 * HOUR);

    expect(to(SUPERVISOR, dueButPaused)).toEqual([]);
    expect(to(SUPERVISOR, resumed).map((m) => m.level)).toEqual([['escalation']]);
  });

  it("never pauses another audience's reminders: a link acknowledges for its own audience and place only", async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR)]);
    const first = await h.run(T0);
    await h.press(tokenIn(to(SUPERVISOR, first)[0], 'sms'), T0 + 30 * MINUTE);

    const reminders = await h.run(T0 + 4 * HOUR);

    expect([...h.ledger.acks.keys()]).toEqual(['acks/district-supervisor/D01']);
    expect(to(SUPERVISOR, reminders)).toEqual([]);
    // The duty inspector of the same district hears of the same case: not acknowledged, reminded.
    expect(to(INSPECTOR, reminders).map((m) => m.level)).toEqual([['escalation']]);
    // And the inspector's own link, once pressed, pauses only the inspector.
    await h.press(tokenIn(to(INSPECTOR, first)[0], 'email'), T0 + 4 * HOUR + MINUTE);
    expect([...h.ledger.acks.keys()].sort()).toEqual([
      'acks/district-supervisor/D01',
      'acks/duty-inspector/D01',
    ]);
  });

  it('never stops a case reaching its next level', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR)]); // breach; escalates at 48h, T0 + 23h
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');
    await h.press(token, T0 + HOUR);

    const breachReminder = await h.run(T0 + 8 * HOUR);
    const escalation = await h.run(T0 + 23 * HOUR);

    expect(to(SUPERVISOR, breachReminder)).toEqual([]);
    expect(to(SUPERVISOR, escalation).map((m) => m.level)).toEqual([['escalation']]);
    expect(to(SUPERVISOR, escalation)[0]?.sms).toMatch(/1 ESCALATION \(1 new\)/);
  });
});

describe('no personal data', () => {
  it('shows only references, levels, ages, categories, risk levels, stages and the place', async () => {
    const h = harness();
    h.set([
      daHigh('DA-000-0000001', T0 - 50 * HOUR, {
        victimName: 'SYNTHETIC-PERSON-Alpha',
        address: 'SYNTHETIC-ADDRESS-1 Example Road',
        notes: 'SYNTHETIC-NOTE-details',
      }),
    ]);
    const token = tokenIn(to(SUPERVISOR, await h.run(T0))[0], 'sms');

    const pages = [
      (await h.get(token, T0 + MINUTE)).page,
      (await h.press(token, T0 + 2 * MINUTE)).page,
      (await h.get(token, T0 + 3 * MINUTE)).page,
    ];

    for (const page of pages) expect(piiMarkerIn(page.body)).toBeUndefined();
    const cells = [...(pages[0]?.body.matchAll(/<td>([^<]*)<\/td>/g) ?? [])].map((m) => m[1]);
    expect(cells).toEqual(['DA-000-0000001', 'domestic-abuse', 'high', 'awaiting-risk-assessment', '2d 2h']);
    expect(JSON.stringify([...h.links.links.values()])).not.toMatch(/SYNTHETIC/);
  });

  it('escapes every value it shows', async () => {
    const h = harness();
    const token = newToken();
    await h.links.put(aRecord(tokenHash(token), { placeName: '<script>alert(1)</script> & "co"' }));

    const { page } = await h.get(token, T0 + MINUTE);

    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;');
  });

  it('is sent with headers that keep it out of caches, frames, referrers and search engines, and runs no script', async () => {
    const h = harness();
    const token = newToken();
    await h.links.put(aRecord(tokenHash(token)));

    const { page } = await h.get(token, T0 + MINUTE);

    expect(page.headers).toMatchObject({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
    });
    const csp = page.headers['Content-Security-Policy'] ?? '';
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe');
    expect(page.body).not.toMatch(/<script|javascript:|\son\w+=/i);
    // The one stylesheet is the one the policy allows, by its hash.
    const style = page.body.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '';
    const hash = createHash('sha256').update(style, 'utf8').digest('base64');
    expect(csp).toContain(`style-src 'sha256-${hash}'`);
  });
});

function linkRequest(overrides: Partial<AckLinkRequest> = {}): AckLinkRequest {
  return {
    audience: 'district-supervisor',
    place: 'D01',
    placeName: 'D01 Northgate',
    channel: 'sms',
    runId: 'run-1',
    sentAtMs: T0,
    expiresAtMs: T0 + 24 * HOUR,
    sections: {
      breach: {
        count: 1,
        lines: [
          {
            caseRef: 'DA-000-0000001',
            category: 'domestic-abuse',
            riskLevel: 'high',
            stage: 'awaiting-risk-assessment',
            ageMs: 30 * HOUR,
          },
        ],
      },
    },
    linkBase: 'https://qw.example.police.uk/q',
    ...overrides,
  };
}

function aRecord(hash: string, overrides: Partial<AckLinkRecord> = {}): AckLinkRecord {
  return {
    tokenHash: hash,
    audience: 'district-supervisor',
    audienceName: 'On-call public protection supervisor for the district',
    place: 'D01',
    placeName: 'D01 Northgate',
    district: 'D01',
    localAuthority: 'la-northgate',
    channel: 'email',
    runId: 'run-1',
    sentAtMs: T0,
    expiresAtMs: T0 + 24 * HOUR,
    sections: linkRequest().sections,
    pauseMs: { breach: 8 * HOUR },
    linkBase: 'https://qw.example.police.uk/q',
    ...overrides,
  };
}
