// `queuewatch digest --to`: which digests to show, and what an unknown name is answered with.

import { describe, expect, it } from 'vitest';
import { selectGroups, UnknownDigestError } from '#shared/digest/preview.ts';
import { defaultConfig } from '#test/support/fixtures.ts';

const config = defaultConfig();

describe('selectGroups', () => {
  it('names an unknown audience as typed, and masks an address or phone number typed instead', () => {
    const refused = (wanted: string[]) => {
      try {
        selectGroups(config, wanted);
      } catch (error) {
        expect(error).toBeInstanceOf(UnknownDigestError);
        return (error as Error).message;
      }
      throw new Error('not refused');
    };

    expect(refused(['district-supervisor@D01'])).toMatch(/^no daily digest for district-supervisor@D01: /);
    const message = refused(['jane.doe@example.org', '+447700900123', 'senior-officer']);
    expect(message).toMatch(/^no daily digest for j…@e….org, \+44…23: the config's digest goes to /);
    expect(message).not.toContain('jane.doe');
    expect(message).not.toContain('7700900');
  });
});
