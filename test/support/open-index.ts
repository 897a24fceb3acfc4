// The case references in a mirror's open-cases index, read as the scan reads it: every shard of
// every district the config knows (the index is sharded; a test asks "which cases are open").

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { loadConfig } from '#shared/config/load.ts';

export async function openIndexRefs(
  doc: DynamoDBDocumentClient,
  tableName: string,
  districts: readonly string[] = Object.keys(loadConfig().file.districts),
): Promise<string[]> {
  const source = new DynamoOpenCaseSource(doc, tableName);
  const refs: string[] = [];
  for (const shard of source.shards(districts)) {
    for await (const page of source.pages(shard)) for (const item of page) refs.push(String(item.caseRef));
  }
  return refs.sort();
}
