// How a config is stored in SSM Parameter Store: compact JSON (comments dropped) when it fits a
// Standard parameter (4 KB, no charge), else gzip-compressed and base64-encoded behind a `gzip:`
// prefix (a whole force's config is about 3 KB that way). `config push` writes it; the functions
// and `config show`/`diff` read it back with configTextOf.

import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError } from './compile.ts';

export const STANDARD_TIER_BYTES = 4096;
export const ADVANCED_TIER_BYTES = 8192;
const COMPRESSED = 'gzip:';

/** The parameter value for a config's compact JSON (load.ts `configJson` makes it from a file). */
export function storedConfigValue(json: string): string {
  if (Buffer.byteLength(json) <= STANDARD_TIER_BYTES) return json;
  return `${COMPRESSED}${gzipSync(json, { level: 9 }).toString('base64')}`;
}

/** The most JSON a stored value may unzip to: far above any real config (the shipped one, a whole
 * force's, is about 11 KB), far below what would exhaust a function's memory. */
export const MAX_CONFIG_TEXT_BYTES = 1 << 20;

/** The config text a stored value holds (compressed or not). Throws a ConfigError on a damaged
 * value, and on one that unzips to more than MAX_CONFIG_TEXT_BYTES (8 KB of gzip can hold
 * gigabytes: the function would run out of memory before it could say what was wrong). */
export function configTextOf(value: string): string {
  if (!value.startsWith(COMPRESSED)) return value;
  const zipped = Buffer.from(value.slice(COMPRESSED.length), 'base64');
  try {
    return gunzipSync(zipped, { maxOutputLength: MAX_CONFIG_TEXT_BYTES }).toString('utf8');
  } catch (error) {
    const message =
      (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
        ? `the stored config unzips to more than ${MAX_CONFIG_TEXT_BYTES / 1024} KB of JSON: not one \`config push\` wrote`
        : `the stored value begins ${COMPRESSED} but its gzip data is damaged: not one \`config push\` wrote`;
    throw new ConfigError([{ path: '', message }], { cause: error });
  }
}

export type ParameterTier = 'Standard' | 'Advanced';

/** The tier a value needs, or undefined when it is too big for any. */
export function parameterTier(value: string): ParameterTier | undefined {
  const bytes = Buffer.byteLength(value);
  return bytes <= STANDARD_TIER_BYTES ? 'Standard' : bytes <= ADVANCED_TIER_BYTES ? 'Advanced' : undefined;
}

export function describeTier(value: string): string {
  const bytes = Buffer.byteLength(value);
  const tier = parameterTier(value);
  const what = value.startsWith(COMPRESSED)
    ? `${Buffer.byteLength(configTextOf(value)).toLocaleString('en-GB')} bytes of JSON, stored gzip-compressed in ${bytes.toLocaleString('en-GB')} bytes`
    : `${bytes.toLocaleString('en-GB')} bytes of JSON`;
  if (tier === 'Standard') return `${what}: a Standard parameter (up to 4 KB, no charge)`;
  if (tier === 'Advanced') {
    return `${what}: needs an Advanced parameter (4 to 8 KB, charged per parameter per month; a parameter once Advanced cannot go back to Standard)`;
  }
  return `${what}: too big for an SSM parameter (at most 8 KB, Advanced tier); shorten descriptions or split the config`;
}
