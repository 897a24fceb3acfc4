// Phone numbers and email addresses as an error may show them. Contacts are staff's personal data,
// and errors end up in terminals, CI logs and the functions' logs: one typed in the wrong place (a
// limit, a district, a key) is shown masked, never whole.

/**
 * A phone number or an address as an error may show it: enough to find the entry in the file, never
 * the whole. `+447700900123` becomes `+44…23`, `d01-supervisors@example.org` becomes `d…@e….org`.
 */
export function maskContact(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  const at = value.lastIndexOf('@');
  if (at >= 0) {
    const domain = value.slice(at + 1);
    const dot = domain.lastIndexOf('.');
    const maskedDomain = dot > 0 ? `${domain.slice(0, 1)}…${domain.slice(dot)}` : '…';
    return `${value.slice(0, Math.min(1, at))}…@${maskedDomain}`;
  }
  return value.length >= 8 ? `${value.slice(0, 3)}…${value.slice(-2)}` : '…';
}

/** A contact detail written where a key or a value goes (`"+447700900123": ...`) would be quoted
 * whole by the path and by "unknown key": masked there as everywhere else. An address, or a run of
 * digits however a person groups them (`07700 900123`, `07700-900-123`, `(07700) 900123`,
 * `+44.7700.900123`) that is not part of a word (a reference such as `DA-001-0000140`). */
const CONTACT_LIKE = /[^\s'"@…[\].][^\s'"@…[\]]*@[^\s'"…[\]]+|(?<![\w.-])\+?\(?\d[\d ()./-]*\d(?![\w-])/g;

/** Digits enough to be a phone number (as many as a date, and more than a limit or a count). */
const PHONE_DIGITS_AT_LEAST = 8;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The text with every contact-like part in it masked. */
export const maskContacts = (text: string): string =>
  text.replace(CONTACT_LIKE, (found) => {
    if (found.includes('@')) return maskContact(found);
    const digits = found.replace(/\D/g, '').length;
    return digits < PHONE_DIGITS_AT_LEAST || ISO_DATE.test(found) ? found : maskContact(found);
  });
