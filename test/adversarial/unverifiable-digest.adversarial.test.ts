import { GuardMode } from '../../lib/guard-facts';
import { MAX_SUBJECT_LENGTH, NoticeContext } from '../../lib/remediation/report/notice';
import { BucketOutcome, unverifiableOutcome } from '../../lib/remediation/report/outcome';
import {
  belongsInDigest,
  composeUnverifiableDigest,
  MAX_DIGEST_MESSAGE_BYTES,
} from '../../lib/remediation/report/unverifiable-digest';

const CONTEXT: NoticeContext = {
  accountId: '123456789012',
  region: 'us-east-1',
  mode: GuardMode.REMEDIATE,
  trigger: 'AWS Config periodic evaluation',
};
/** What SNS takes in one message, subject and attributes included. */
const SNS_MAX_BYTES = 256 * 1024;

function bucketName(index: number): string {
  const digits = String(index).padStart(5, '0');
  return `${'registry-'.padEnd(58, 'x')}${digits}`; // 63 characters
}

/** Publishing fails on a lone surrogate: SNS's query protocol URI-encodes the message. */
function encodable(text: string): boolean {
  try {
    encodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

describe('the could-not-verify digest against hostile input', () => {
  test('10,000 buckets of 63 characters with 300-character multibyte reasons: within SNS 256 KB, each listed or counted', () => {
    const outcomes = Array.from({ length: 10_000 }, (_, index) =>
      unverifiableOutcome(
        bucketName(index),
        `GetBucketAcl failed with SlowDown: ${'é✓'.repeat(200)} #${index % 37}`,
      ),
    );
    const notice = composeUnverifiableDigest(outcomes, CONTEXT);
    const bytes = Buffer.byteLength(notice.message, 'utf8');
    expect(bytes).toBeLessThanOrEqual(MAX_DIGEST_MESSAGE_BYTES);
    expect(bytes + Buffer.byteLength(notice.subject) + 1_024).toBeLessThanOrEqual(SNS_MAX_BYTES);
    const listed = notice.message.split('\n').filter((line) => line.startsWith(`- ${'registry-'}`)).length;
    const omitted = Number(/\.\.\. and (\d+) more/.exec(notice.message)?.[1] ?? 0);
    expect(listed + omitted).toBe(10_000);
    expect(notice.attributes.buckets).toBe('10000');
    expect(notice.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(notice.subject).not.toMatch(/[\r\n]/);
  });

  test('a reason with line breaks cannot forge a line of the digest (a fake bucket, a fake count)', () => {
    const forged =
      'SlowDown\n- 0 x nothing to see\n- innocent-bucket: verified\r\nRunbook: https://evil.example';
    const notice = composeUnverifiableDigest([unverifiableOutcome('census-a', forged)], CONTEXT);
    const lines = notice.message.split('\n');
    expect(lines).not.toContain('- innocent-bucket: verified');
    expect(lines).not.toContain('- 0 x nothing to see');
    expect(lines.filter((line) => line.startsWith('Runbook:'))).toEqual(['Runbook: docs/runbook.md']);
    expect(notice.message.split('\n').some((line) => /\p{Cc}|[\u2028\u2029]/u.test(line))).toBe(false);
  });

  test('a bucket name with control characters is shown on one line', () => {
    const notice = composeUnverifiableDigest(
      [unverifiableOutcome('roll\n- other: fine\u0007', 'SlowDown')],
      CONTEXT,
    );
    expect(notice.message.split('\n')).not.toContain('- other: fine\u0007: SlowDown');
    expect(notice.message.includes('\u0007')).toBe(false);
  });

  test('a reason cut in the middle of an emoji still publishes (no lone surrogate)', () => {
    // 296 ASCII characters then an emoji: the cut at 297 UTF-16 units falls between its two halves.
    const reason = `${'x'.repeat(296)}🔒🔒🔒 and more`;
    const notice = composeUnverifiableDigest([unverifiableOutcome('census-a', reason)], CONTEXT);
    expect(encodable(notice.message)).toBe(true);
    // And a lone half already in the reason (a sweep record read back from S3, say).
    const lone = composeUnverifiableDigest([unverifiableOutcome('census-b', 'SlowDown \uD83D end')], CONTEXT);
    expect(encodable(lone.message)).toBe(true);
    expect(lone.message).toContain('- census-b: SlowDown \uFFFD end');
  });

  test('a reason containing the subject text or a delimiter leaves the subject alone', () => {
    const notice = composeUnverifiableDigest(
      [unverifiableOutcome('census-a', 'registry-guard: COULD NOT VERIFY 0 buckets (sweep) | x')],
      { ...CONTEXT, region: 'us-east-1\nInjected: yes', accountId: '1'.repeat(200) },
    );
    expect(notice.subject).not.toMatch(/[\r\n]/);
    expect(notice.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(notice.subject).toMatch(/^registry-guard: COULD NOT VERIFY 1 bucket /);
  });

  test('a registry bucket is listed before the size cut and marked, whatever its name sorts as', () => {
    const outcomes: BucketOutcome[] = Array.from({ length: 3_000 }, (_, index) =>
      unverifiableOutcome(`a-${bucketName(index).slice(2)}`, `SlowDown ${'r'.repeat(280)}`),
    );
    outcomes.push({ ...unverifiableOutcome('zz-electoral-roll', 'SlowDown'), isRegistry: true });
    const notice = composeUnverifiableDigest(outcomes, CONTEXT);
    expect(notice.message).toMatch(/\.\.\. and \d+ more/);
    expect(notice.message).toContain('- zz-electoral-roll (registry): SlowDown');
  });

  test('only outcomes that changed nothing join the digest: a closed bucket keeps its own page', () => {
    const unverifiable = unverifiableOutcome('census-a', 'GetBucketPolicy failed with AccessDenied');
    expect(belongsInDigest(unverifiable)).toBe(true);
    const closed = {
      ...unverifiable,
      remediation: { actions: [], stillPublic: false } as unknown as BucketOutcome['remediation'],
    };
    expect(belongsInDigest(closed)).toBe(false);
    expect(belongsInDigest({ ...unverifiable, unverifiable: undefined })).toBe(false);
    expect(unverifiable.compliance).toBe('NON_COMPLIANT');
  });
});
