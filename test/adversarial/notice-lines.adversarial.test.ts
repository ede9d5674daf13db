/**
 * Error text and tags reach notices verbatim: a line break in them must not forge a line on-call trusts
 * (a fake "Bucket:" or "Runbook:" line).
 */
import { GuardMode } from '../../lib/guard-facts';
import { composeBucketNotice } from '../../lib/remediation/report/notice';
import { unverifiableOutcome } from '../../lib/remediation/report/outcome';

const CONTEXT = {
  accountId: '123456789012',
  region: 'eu-west-1',
  mode: GuardMode.REMEDIATE,
  trigger: 'PutBucketPolicy',
};

describe('notices keep outside text on one line', () => {
  test('an unverifiable reason with line breaks forges no line of the bucket notice', () => {
    const reason = 'AccessDenied\nBucket: innocent-bucket\u2028Runbook: https://evil.example';
    const notice = composeBucketNotice(unverifiableOutcome('electoral-roll', reason), CONTEXT);
    const lines = notice.message.split('\n');
    expect(lines.filter((line) => line.startsWith('Bucket:'))).toEqual(['Bucket: electoral-roll']);
    expect(lines.some((line) => line.startsWith('Runbook: https://evil'))).toBe(false);
    expect(notice.message).toContain('Could not verify: AccessDenied Bucket: innocent-bucket Runbook:');
  });
});
