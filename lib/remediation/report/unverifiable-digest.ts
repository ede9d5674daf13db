/**
 * A sweep's buckets that could not be verified, told in one notice. A sweep under throttling (or an outage)
 * may leave hundreds of buckets unread at once; one page each would bury on-call, and the same cause behind
 * all of them would be lost in the noise. A change event keeps its own page: that is one bucket that just
 * changed.
 */
import { modeLines, Notice, NoticeContext, RUNBOOK, subjectLine } from './notice';
import { BucketOutcome } from './outcome';
import { oneLine } from './one-line';

/**
 * SNS takes at most 256 KB (262,144 bytes) a message, subject and attributes included. The digest's body
 * keeps under 240 KiB, which leaves room for the subject, the attributes and the "Delivered late" paragraph a
 * pending notice gains when a later invocation delivers it.
 */
export const MAX_DIGEST_MESSAGE_BYTES = 240 * 1024;
/** A bucket's reason is cut at this many characters: an error message may be long, the list must not be. */
export const MAX_DIGEST_REASON_LENGTH = 300;
/** Distinct reasons counted in the summary; the rest are counted together. */
const MAX_SUMMARY_REASONS = 10;

/**
 * True when a sweep's outcome goes into the digest rather than a page of its own: could not be verified and
 * nothing was changed. A bucket the guard did change (Block Public Access turned on after a refused read)
 * keeps its own notice, with its evidence and how to restore.
 *
 * @example
 * belongsInDigest(unverifiableOutcome('roll', 'GetBucketAcl failed with SlowDown: Please reduce your request rate')); // true
 */
export function belongsInDigest(outcome: BucketOutcome): boolean {
  return outcome.unverifiable !== undefined && outcome.remediation === undefined;
}

/**
 * Composes the one notice for every bucket a sweep could not verify: how many, the reasons counted, then
 * each bucket with its reason (registry buckets first and marked, so the size limit never leaves one out),
 * as many as fit SNS's size limit (the rest are counted, and each is in the log and in AWS Config). Names
 * and reasons are shown on one line each, whatever control characters they hold.
 *
 * @example
 * const notice = composeUnverifiableDigest([outcomeA, outcomeB], noticeContextOf(run));
 * notice.subject; // 'registry-guard: COULD NOT VERIFY 2 buckets (sweep, account 123456789012, us-east-1)'
 */
export function composeUnverifiableDigest(
  outcomes: readonly BucketOutcome[],
  context: NoticeContext,
): Notice {
  // Registry buckets first, so the size cut never leaves one out of the list; then by name.
  const entries = [...outcomes]
    .map((outcome) => ({
      bucket: oneLine(outcome.bucket),
      registry: outcome.isRegistry === true,
      reason: oneLine(outcome.unverifiable ?? 'unknown'),
    }))
    .sort(
      (a, b) =>
        Number(b.registry) - Number(a.registry) || (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0),
    );
  const count = entries.length;
  const buckets = count === 1 ? '1 bucket' : `${count} buckets`;
  const head = [
    `COULD NOT VERIFY ${buckets}: ${count === 1 ? 'a read of it' : 'a read of each'} still failed after its own ` +
      'retries, so each was reported NON_COMPLIANT and nothing was changed. Treat them as possibly public until ' +
      'a later sweep or event reads them whole (runbook, "Could not verify").',
    '',
    `Account: ${context.accountId ?? 'unknown'}`,
    `Region: ${context.region ?? 'unknown'}`,
    `Trigger: ${context.trigger}`,
    ...modeLines(context),
  ];
  head.push('', 'Reasons:', ...summariseReasons(entries.map((entry) => entry.reason)), '', 'Buckets:');
  const tail = ['', `Runbook: ${RUNBOOK}`];

  const lines = [...head];
  let bytes = byteLength([...head, ...tail].join('\n')) + 1;
  // Room for the line that counts what was left out, however many that is.
  const reserve = byteLength(omittedLine(count)) + 2;
  let listed = 0;
  for (const entry of entries) {
    const line = `- ${entry.bucket}${entry.registry ? ' (registry)' : ''}: ${cut(entry.reason, MAX_DIGEST_REASON_LENGTH)}`;
    const size = byteLength(line) + 1;
    if (bytes + size + reserve > MAX_DIGEST_MESSAGE_BYTES) break;
    lines.push(line);
    bytes += size;
    listed += 1;
  }
  if (listed < count) lines.push(omittedLine(count - listed));
  lines.push(...tail);
  return {
    subject: subjectLine(
      `registry-guard: COULD NOT VERIFY ${buckets} (sweep, account ${context.accountId ?? 'unknown'}, ${context.region ?? 'all Regions'})`,
    ),
    message: lines.join('\n'),
    attributes: {
      notice: 'could-not-verify-digest',
      compliance: 'NON_COMPLIANT',
      buckets: String(count),
      mode: context.mode,
    },
  };
}

/** The reasons, most frequent first, with their counts. */
function summariseReasons(reasons: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const reason of reasons) {
    const key = cut(reason, MAX_DIGEST_REASON_LENGTH);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const lines = ranked.slice(0, MAX_SUMMARY_REASONS).map(([reason, times]) => `- ${times} x ${reason}`);
  const others = ranked.slice(MAX_SUMMARY_REASONS).reduce((sum, [, times]) => sum + times, 0);
  if (others > 0) lines.push(`- ${others} x other reasons (see the list)`);
  return lines;
}

function omittedLine(omitted: number): string {
  return (
    `- ... and ${omitted} more, not listed to keep this notice within SNS's 256 KB: each has a ` +
    '"Bucket could not be verified" line in the log and a NON_COMPLIANT evaluation in AWS Config with its reason.'
  );
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Never splits a surrogate pair: a lone half makes SNS's query encoding (and so the publish) throw. */
function cut(text: string, length: number): string {
  if (text.length <= length) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(length - 4)) ? length - 4 : length - 3;
  return `${text.slice(0, end)}...`;
}
