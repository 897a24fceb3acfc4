// The cold start's baseline (bench row 6) imports the AWS SDK with the bundle's own import
// statements: read from esbuild's real output, in every form esbuild writes them.

import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { sdkImportStatements } from '../../bench/sdk-imports.ts';

async function bundle(contents: string): Promise<string> {
  const result = await build({
    stdin: { contents, loader: 'ts', resolveDir: import.meta.dirname },
    bundle: true,
    format: 'esm',
    platform: 'node',
    minify: true,
    write: false,
    external: ['@aws-sdk/*'],
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('sdkImportStatements', () => {
  it('takes every form of import esbuild writes, and nothing of our code', async () => {
    const source = await bundle(`
      import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
      import * as sns from '@aws-sdk/client-sns';
      import ssm, { SSMClient } from '@aws-sdk/client-ssm';
      import '@aws-sdk/lib-dynamodb';
      export const clients = [new DynamoDBClient({}), sns, ssm, SSMClient, 'import "@aws-sdk/not-an-import"'];
    `);
    const { source: statements, modules } = await sdkImportStatements(source);

    expect(modules).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-sns',
      '@aws-sdk/client-ssm',
      '@aws-sdk/lib-dynamodb',
    ]);
    const lines = statements.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^import\b.*"@aws-sdk\/[a-z-]+";$/);
    expect(statements).not.toContain('new ');
    expect(statements).not.toContain('not-an-import');
  });

  it('fails loudly on an SDK module reached otherwise, rather than leave it out', async () => {
    await expect(sdkImportStatements('import{a}from"@aws-sdk/x";export{b}from"@aws-sdk/y";')).rejects.toThrow(
      /reaches @aws-sdk\/y other than by an import statement/,
    );
    await expect(
      sdkImportStatements('import{a}from"@aws-sdk/x";await import("@aws-sdk/z");'),
    ).rejects.toThrow(/reaches @aws-sdk\/z other than by an import statement/);
  });
});
