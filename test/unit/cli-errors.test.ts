// How the CLI reports an error it did not expect: the exit status of a bug, the error's kind and
// message on one line, and the stack trace only when asked for (and then not asked for again).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '#shared/cli/errors.ts';
import { EXIT } from '#shared/cli/output.ts';

function reported(error: unknown): { status: number; stderr: string } {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    return { status: reportError(error), stderr: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('an internal error', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('exits 70 and says how to get the stack trace', () => {
    vi.stubEnv('QUEUEWATCH_DEBUG', '');
    const { status, stderr } = reported(new TypeError('x is not a function'));

    expect(status).toBe(EXIT.internal);
    expect(stderr).toBe(
      'queuewatch: internal error (a bug): TypeError: x is not a function\n  re-run with QUEUEWATCH_DEBUG=1 for the stack trace, and report it\n',
    );
  });

  it('with QUEUEWATCH_DEBUG set, prints the stack trace instead of asking for it', () => {
    vi.stubEnv('QUEUEWATCH_DEBUG', '1');
    const { status, stderr } = reported(new TypeError('x is not a function'));

    expect(status).toBe(EXIT.internal);
    expect(stderr).toMatch(
      /^queuewatch: internal error \(a bug\): TypeError: x is not a function\n {2}report it with the stack trace below\nTypeError: x is not a function\n {4}at /,
    );
    expect(stderr).not.toContain('re-run');
  });
});
