/**
 * Exemptions let an ordinary bucket stay public on purpose (a website, open data) until a date.
 * A registry bucket is never exempt.
 */
import { Tag } from '@aws-sdk/client-s3';
import { tagValue } from '../read/bucket-state';

/** Tag holding the reason a bucket may be public. */
export const EXEMPTION_REASON_TAG_KEY = 'registry-guard:public-exemption';
/** Tag holding the last day (UTC, `YYYY-MM-DD`) the exemption holds. */
export const EXEMPTION_EXPIRES_TAG_KEY = 'registry-guard:exemption-expires';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a bucket's exemption tags amount to. */
export type Exemption =
  | { readonly status: 'none' }
  | { readonly status: 'valid'; readonly reason: string; readonly expires: string }
  /** Tags are present but do not exempt: `why` says what is wrong, for the annotation. */
  | { readonly status: 'invalid'; readonly why: string };

/**
 * Reads the exemption tags. The expiry is a calendar date and holds through the end of that day (UTC).
 * An expired or malformed date, a date more than `maxDays` days away, or a missing or empty reason, is no
 * exemption: an exemption is a reviewed, short-lived decision, and `2099-12-31` is neither.
 *
 * @example
 * readExemption(
 *   [{ Key: 'registry-guard:public-exemption', Value: 'Open data, SEC-1234' },
 *    { Key: 'registry-guard:exemption-expires', Value: '2027-01-31' }],
 *   new Date('2026-11-25T00:00:00Z'),
 *   90,
 * ); // { status: 'valid', reason: 'Open data, SEC-1234', expires: '2027-01-31' }
 */
export function readExemption(tags: readonly Tag[], now: Date, maxDays: number): Exemption {
  const reason = tagValue(tags, EXEMPTION_REASON_TAG_KEY)?.trim();
  const expires = tagValue(tags, EXEMPTION_EXPIRES_TAG_KEY)?.trim();
  if (reason === undefined && expires === undefined) return { status: 'none' };
  if (reason === undefined || reason === '') {
    return {
      status: 'invalid',
      why: `exemption ignored: ${EXEMPTION_REASON_TAG_KEY} (the reason) is missing`,
    };
  }
  if (expires === undefined) {
    return { status: 'invalid', why: `exemption ignored: ${EXEMPTION_EXPIRES_TAG_KEY} is missing` };
  }
  const endOfDay = endOfDayUtc(expires);
  if (endOfDay === undefined) {
    return {
      status: 'invalid',
      why: `exemption ignored: ${EXEMPTION_EXPIRES_TAG_KEY} "${expires}" is not a date (YYYY-MM-DD)`,
    };
  }
  if (now.getTime() >= endOfDay) return { status: 'invalid', why: `exemption ignored: expired ${expires}` };
  if (endOfDay - now.getTime() > (maxDays + 1) * DAY_MS) {
    return {
      status: 'invalid',
      why: `exemption ignored: ${expires} is more than ${maxDays} days away, the longest an exemption may run`,
    };
  }
  return { status: 'valid', reason, expires };
}

/** Milliseconds at the end of the given calendar day, UTC; undefined unless a real `YYYY-MM-DD` date. */
function endOfDayUtc(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const start = Date.UTC(year, month - 1, day);
  const date = new Date(start);
  // Date.UTC rolls 2027-02-30 over to March: a date that does not round-trip does not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return start + DAY_MS;
}
