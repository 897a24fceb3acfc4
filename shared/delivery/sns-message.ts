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
