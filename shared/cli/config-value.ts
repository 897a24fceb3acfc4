// How a config is stored in SSM Parameter Store: compact JSON (comments dropped), in a Standard
// parameter up to 4 KB or an Advanced one up to 8 KB.

import { parse } from 'yaml';

export const STANDARD_TIER_BYTES = 4096;
export const ADVANCED_TIER_BYTES = 8192;

/** The parameter value for a config file's text (YAML or JSON). */
export const storedConfigValue = (text: string): string => JSON.stringify(parse(text));

export type ParameterTier = 'Standard' | 'Advanced';

/** The tier a value needs, or undefined when it is too big for any. */
export function parameterTier(value: string): ParameterTier | undefined {
  const bytes = Buffer.byteLength(value);
  return bytes <= STANDARD_TIER_BYTES ? 'Standard' : bytes <= ADVANCED_TIER_BYTES ? 'Advanced' : undefined;
}

export function describeTier(value: string): string {
  const bytes = Buffer.byteLength(value);
  const tier = parameterTier(value);
  const size = `${bytes.toLocaleString('en-GB')} bytes of JSON`;
  if (tier === 'Standard') return `${size}: a Standard parameter (up to 4 KB, no charge)`;
  if (tier === 'Advanced') {
    return `${size}: needs an Advanced parameter (4 to 8 KB, charged per parameter per month; a parameter once Advanced cannot go back to Standard)`;
  }
  return `${size}: too big for an SSM parameter (at most 8 KB, Advanced tier); shorten descriptions or split the config`;
}
