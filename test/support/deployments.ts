// Synthetic deployment configs for tests: Ofcom drama numbers and example.org addresses only.

import type { ConfigFile } from '#shared/config/schema.ts';

/** A deployment config (as JSON would hold it) that subscribes one inbox to every routed audience in
 * every place its scope has, so nothing goes unreceived. */
export function fullCoverageDeployment(config: ConfigFile, stage = 'covered'): Record<string, unknown> {
  const routed = (audience: string) =>
    audience === config.fallbackAudience || config.routes.some((r) => r.audiences.includes(audience));
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
