// Makes acknowledgement links for the scan (its AckLinks port): one random token per message and
// channel, stored by its hash with what it acknowledges, so the link itself stays short
// (`https://qw.example.police.uk/a/Zz9Yy8Xx7W`) and a used or expired one can be refused. A signed
// token would need no table, but carrying the audience, place, levels and cases it is bound to
// would make it far too long for an SMS, and single use needs a stored mark anyway.

import pLimit from 'p-limit';
import type { CompiledConfig } from '../config/compile.ts';
import type { AlertLine } from '../domain/alert-line.ts';
import { LEVELS } from '../domain/levels.ts';
import type { AckLinkRequest, AckLinks } from '../scan/ports.ts';
import type { AckLinkRecord, AckLinkStore } from './ports.ts';
import { newToken, tokenHash } from './token.ts';

/** No link could be made (no public address, or no unused token after a few tries). */
export class AckLinkError extends Error {
  override name = 'AckLinkError';
}

export interface TokenAckLinksOptions {
  /** The config in force: audience names, places and pause lengths are bound into each link. */
  config: () => Promise<CompiledConfig>;
  /** The deployment's own address for the page, used when the config sets no `acknowledge.baseUrl`. */
  baseUrl?: string;
  /** crypto.randomBytes outside tests. */
  random?: (size: number) => Buffer;
  /** Concurrent writes (default 16). */
  concurrency?: number;
}

/** Tries before giving up on a token whose hash is already taken (at 59.5 bits, never in practice). */
const ATTEMPTS = 3;

export class TokenAckLinks implements AckLinks {
  constructor(
    private readonly store: AckLinkStore,
    private readonly options: TokenAckLinksOptions,
  ) {}

  async create(requests: readonly AckLinkRequest[]): Promise<string[]> {
    if (requests.length === 0) return [];
    const config = await this.options.config();
    const limit = pLimit(this.options.concurrency ?? 16);
    return Promise.all(requests.map((request) => limit(() => this.createOne(request, config))));
  }

  private async createOne(request: AckLinkRequest, config: CompiledConfig): Promise<string> {
    const base = (request.baseUrl ?? this.options.baseUrl)?.replace(/\/+$/, '');
    if (!base) {
      throw new AckLinkError(
        'no public address for the acknowledgement page: set acknowledge.baseUrl in the config, or ACK_BASE_URL',
      );
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const token = newToken(this.options.random);
      if (await this.store.put(linkRecord(request, tokenHash(token), config))) return `${base}/${token}`;
    }
    throw new AckLinkError(`no unused token after ${ATTEMPTS} attempts`);
  }
}

/** What a link is bound to: the request as the scan made it, with the config's names and pauses. */
export function linkRecord(request: AckLinkRequest, hash: string, config: CompiledConfig): AckLinkRecord {
  const levels = LEVELS.filter((l) => request.sections[l] !== undefined);
  return {
    tokenHash: hash,
    audience: request.audience,
    audienceName: config.file.audiences[request.audience]?.description ?? request.audience,
    place: request.place,
    placeName: request.placeName,
    ...placeAreas(config, request.audience, request.place),
    channel: request.channel,
    runId: request.runId,
    sentAtMs: request.sentAtMs,
    expiresAtMs: request.expiresAtMs,
    sections: Object.fromEntries(
      levels.flatMap((l) => {
        const s = request.sections[l];
        return s ? [[l, { count: s.count, lines: s.lines.map(allowedFields) }]] : [];
      }),
    ),
    pauseMs: Object.fromEntries(levels.map((l) => [l, config.acknowledge.pauseMs[l]])),
    remindedAt: levels.filter((l) => Number.isFinite(config.policy(request.audience).repeatMs[l])),
    linkBase: request.linkBase,
  };
}

/** Only the fields a page may show, whatever else a line might one day carry. */
const allowedFields = (line: AlertLine): AlertLine => ({
  caseRef: line.caseRef,
  category: line.category,
  riskLevel: line.riskLevel,
  stage: line.stage,
  ageMs: line.ageMs,
});

/** The districts and local authorities an audience's place covers, as the disclosure log names them. */
function placeAreas(
  config: CompiledConfig,
  audience: string,
  place: string,
): Pick<AckLinkRecord, 'district' | 'localAuthority'> {
  const scope = config.policy(audience).scope;
  const districts = Object.keys(config.file.districts).sort();
  if (scope === 'district') return { district: place, localAuthority: config.localAuthorityOf(place) };
  const one = (values: string[]) => (values.length === 1 ? (values[0] as string) : values);
  if (scope === 'local-authority') {
    return {
      district: one(districts.filter((d) => config.localAuthorityOf(d) === place)),
      localAuthority: place,
    };
  }
  return { district: districts, localAuthority: [...new Set(districts.map(config.localAuthorityOf))].sort() };
}
