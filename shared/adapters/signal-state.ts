// Signal state in the state table: one small item per series (`signal#<id>#<district or *>`),
// read together with one BatchGetItem a run. A malformed item reads as "not raised" (the next
// raise announces itself again), never as an error that stops the signals.

import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../domain/zod.ts';
import type { SignalState, SignalStateStore } from '../signals/ports.ts';

const PREFIX = 'signal#';

const stateSchema = z.object({
  raised: z.boolean(),
  raisedAt: z.optional(z.string()),
  sentAt: z.optional(z.string()),
  clearedAt: z.optional(z.string()),
});

export class DynamoSignalStates implements SignalStateStore {
  /** What this container read or wrote, when caching: the signals function runs one at a time, so
   * a warm container is the states' only writer and need not read them again. */
  private readonly known = new Map<string, SignalState | undefined>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { cache?: boolean } = {},
  ) {}

  async load(names: readonly string[]): Promise<Map<string, SignalState>> {
    const out = new Map<string, SignalState>();
    const cache = this.options.cache === true;
    const unread = cache ? names.filter((n) => !this.known.has(n)) : [...names];
    if (cache) {
      for (const n of names) {
        const state = this.known.get(n);
        if (state) out.set(n, state);
      }
    }
    for (let i = 0; i < unread.length; i += 100) {
      let keys: Array<Record<string, unknown>> = unread
        .slice(i, i + 100)
        .map((n) => ({ name: `${PREFIX}${n}` }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`${keys.length} signal states still unread after retries`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const response = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) {
          const parsed = stateSchema.safeParse(item);
          const name = String(item.name).slice(PREFIX.length);
          if (parsed.success) out.set(name, parsed.data);
        }
        keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    if (cache) for (const n of unread) this.known.set(n, out.get(n));
    return out;
  }

  async save(name: string, state: SignalState): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...state, name: `${PREFIX}${name}` } }),
    );
    if (this.options.cache) this.known.set(name, state);
  }
}

export class MemorySignalStates implements SignalStateStore {
  readonly states = new Map<string, SignalState>();

  async load(names: readonly string[]): Promise<Map<string, SignalState>> {
    return new Map(
      names.flatMap((n) => (this.states.has(n) ? [[n, this.states.get(n) as SignalState]] : [])),
    );
  }

  async save(name: string, state: SignalState): Promise<void> {
    this.states.set(name, state);
  }
}
