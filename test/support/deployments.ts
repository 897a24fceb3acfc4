// Synthetic deployment configs for tests: Ofcom drama numbers and example.org addresses only.

import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG_PATH } from '#shared/config/load.ts';
import type { ConfigFile } from '#shared/config/schema.ts';

/** A deployment config (as JSON would hold it) that subscribes one inbox to every routed audience in
 * every place its scope has, so nothing goes unreceived. */
export function fullCoverageDeployment(config: ConfigFile, stage = 'covered'): Record<string, unknown> {
  const routed = (audience: string) =>
    audience === config.fallbackAudience ||
    config.routes.some((r) => r.audiences.includes(audience)) ||
    (config.signals?.routes ?? []).some((r) => r.audiences.includes(audience));
  const audiences = Object.entries(config.audiences).filter(([audience]) => routed(audience));
  const subscribers = audiences.flatMap(([audience, { scope }]) => {
    if (scope === 'district') {
      return Object.keys(config.districts).map((district) => ({
        protocol: 'email',
        endpoint: `${audience}-${district.toLowerCase()}@example.org`,
        audience,
        district,
      }));
    }
    if (scope === 'local-authority') {
      return Object.keys(config.localAuthorities).map((localAuthority) => ({
        protocol: 'email',
        endpoint: `${audience}-${localAuthority}@example.org`,
        audience,
        localAuthority,
      }));
    }
    return [{ protocol: 'email', endpoint: `${audience}@example.org`, audience }];
  });
  return { stage, subscribers, opsEmails: ['ops@example.org'] };
}

/** Another force's admin config: the shipped one under another force's name, with districts S01 to
 * S10 where the shipped one has D01 to D10, so a test can tell which config a force was checked
 * against. */
export function otherForceConfigText(): string {
  const shipped = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
  const text = shipped
    .replace(/^force: .*$/m, 'force: Shire Example Police')
    .replace(/^ {2}D(\d\d): /gm, '  S$1: ');
  if (!/^ {2}S01: /m.test(text) || !text.includes('Shire Example Police')) {
    throw new Error('the shipped config no longer has a force name and districts D01.. to rename');
  }
  return text;
}
