// In-process sinks for the local run and the benchmarks: a publisher that hands each message to a
// callback (and can be told to fail), and ops/audit sinks that keep what they are given.

import { randomUUID } from 'node:crypto';
import type {
  AuditEntry,
  AuditLog,
  OpsNotifier,
  OutgoingMessage,
  Publisher,
  StateStore,
} from '../scan/ports.ts';

export class CallbackPublisher implements Publisher {
  published = 0;

  constructor(private readonly onMessage: (message: OutgoingMessage, messageId: string) => void = () => {}) {}

  async publish(message: OutgoingMessage): Promise<string> {
    const messageId = randomUUID();
    this.published += 1;
    this.onMessage(message, messageId);
    return messageId;
  }
}

export class MemoryOpsNotifier implements OpsNotifier {
  readonly messages: Array<{ subject: string; text: string }> = [];

  constructor(private readonly onNotify: (subject: string, text: string) => void = () => {}) {}

  async notify(subject: string, text: string): Promise<void> {
    this.messages.push({ subject, text });
    this.onNotify(subject, text);
  }
}

export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];

  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
}

/** Named records kept in memory, as the state table keeps them. */
export class MemoryStateStore implements StateStore {
  readonly items = new Map<string, Record<string, unknown>>();
  async get(name: string): Promise<Record<string, unknown> | undefined> {
    return this.items.get(name);
  }
  async put(name: string, value: Record<string, unknown>): Promise<void> {
    this.items.set(name, value);
  }
}
