// Acknowledgement link tokens: 10 random base62 characters (about 59.5 bits), short enough for an
// SMS. Only a token's SHA-256 is stored and only a short prefix of that hash is ever logged, so
// neither a copy of the table nor the logs can be used to acknowledge anything.

import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_LENGTH = 10;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Bytes at or above this are rejected, so every character is equally likely (248 = 4 × 62). */
const UNBIASED_BELOW = 248;

export const TOKEN_PATTERN = /^[0-9A-Za-z]{10}$/;
export const isTokenShaped = (text: string) => TOKEN_PATTERN.test(text);

/** A fresh token; `random` is crypto.randomBytes outside tests. */
export function newToken(random: (size: number) => Buffer = randomBytes): string {
  let token = '';
  while (token.length < TOKEN_LENGTH) {
    for (const byte of random(TOKEN_LENGTH * 2)) {
      if (byte >= UNBIASED_BELOW) continue;
      token += ALPHABET[byte % 62];
      if (token.length === TOKEN_LENGTH) break;
    }
  }
  return token;
}

/** The key a token is stored under. */
export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** How logs name a link: the first 12 hex characters of its hash (of whatever was presented, cut to a
 * sane length first), never the token. */
export const linkRef = (presented: string) => tokenHash(presented.slice(0, 200)).slice(0, 12);
