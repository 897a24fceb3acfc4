// How a message travels through SNS, pure: the `MessageStructure: json` body (an SMS, an email and
// a default), the subject SNS accepts, and the size limit every message is built to fit.

/** SNS accepts at most 256 KB a message, attributes included. */
export const SNS_MAX_BYTES = 256 * 1024;

export interface SnsContent {
  sms?: string;
  email?: { subject: string; body: string };
}

/** SNS subjects must be ASCII, one line, under 100 characters. */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/…/g, '...')
    .replace(/[^\x20-\x7e]/g, '?');
  return ascii.length < 100 ? ascii : `${ascii.slice(0, 96)}...`;
}

/** The `MessageStructure: json` body: the SMS, the email (subject and text), and a default. */
export function snsMessageBody(message: SnsContent): string {
  const body: Record<string, string> = {
    default: message.sms ?? message.email?.subject ?? 'queuewatch alert',
  };
  if (message.sms) body.sms = message.sms;
  if (message.email) body.email = `${message.email.subject}\n\n${message.email.body}`;
  return JSON.stringify(body);
}

/** Bytes a message takes in SNS: its body, its subject and its attributes (as JSON, generously). */
export function snsMessageBytes(message: SnsContent, attributes: unknown): number {
  return (
    Buffer.byteLength(snsMessageBody(message)) +
    Buffer.byteLength(message.email?.subject ?? '') +
    Buffer.byteLength(JSON.stringify(attributes))
  );
}

/** What a message is, for filter policies: `alert` goes to every channel; past the per-run SMS
 * budget alerts go `email-only`, and one `summary` tells phones their alert went by email; the
 * daily `digest` goes to inboxes. */
export type MessageKind = 'alert' | 'email-only' | 'summary' | 'digest';

type AttributeValue = string | readonly string[];

/** The SNS message attributes of a message. Array values (used by the summary, which goes to
 * several audiences at once) become String.Array, which filter policies match by any element. */
export function messageAttributes(m: {
  groups: readonly string[];
  audience: AttributeValue;
  district: AttributeValue;
  localAuthority: AttributeValue;
  level: AttributeValue;
  categories: readonly string[];
  kind: MessageKind;
}) {
  const attribute = (value: AttributeValue) =>
    typeof value === 'string'
      ? { DataType: 'String', StringValue: value }
      : { DataType: 'String.Array', StringValue: JSON.stringify([...new Set(value)].sort()) };
  return {
    group: attribute(m.groups),
    audience: attribute(m.audience),
    district: attribute(m.district),
    localAuthority: attribute(m.localAuthority),
    level: attribute(m.level),
    kind: attribute(m.kind),
    category: attribute(m.categories.length > 0 ? [...m.categories] : ['none']),
  };
}
