import { PublishCommand } from '@aws-sdk/client-sns';
import { DeliveryError } from '../../lib/remediation/errors';
import { GuardMode } from '../../lib/guard-facts';
import { MAX_SUBJECT_LENGTH, NoticeContext } from '../../lib/remediation/report/notice';
import { BucketOutcome, unverifiableOutcome } from '../../lib/remediation/report/outcome';
import { RunReport } from '../../lib/remediation/report/run-report';
import { createRunContext, RunContext } from '../../lib/remediation/run-context';
import { readGuardSettings } from '../../lib/remediation/settings';
import {
  composeUnverifiableDigest,
  MAX_DIGEST_MESSAGE_BYTES,
} from '../../lib/remediation/report/unverifiable-digest';
import {
  ACCOUNT,
  ALL_ON,
  at,
  cloudTrailBucketEvent,
  configChangeEvent,
  FakeAccount,
  EVIDENCE_BUCKET,
  MINUTE,
  NOW,
  policyOf,
  publicStatement,
  REGION,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
  TOPIC_ARN,
} from './support';

const SLOW_DOWN = s3Error('SlowDown', 'Please reduce your request rate.', 503);
const CONTEXT: NoticeContext = {
  accountId: ACCOUNT,
  region: 'us-east-1',
  mode: GuardMode.REMEDIATE,
  trigger: 'AWS Config periodic evaluation',
};

/** A sweep's account: three buckets whose ACL read is throttled for good, one open bucket, two quiet ones. */
function throttledAccount(): FakeAccount {
  const account = new FakeAccount();
  for (const bucket of ['census-a', 'census-b', 'census-c']) {
    account.addBucket(bucket, { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON });
    account.failAlways('GetBucketAcl', bucket, SLOW_DOWN);
  }
  account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
  account.addBucket('quiet-a', { blockPublicAccess: ALL_ON });
  account.addBucket('quiet-b', {});
  return account;
}

describe('a sweep tells its unverifiable buckets in one digest', () => {
  test('three throttled buckets: one COULD NOT VERIFY digest listing each with its reason, a page for the bucket it closed, NON_COMPLIANT for each', async () => {
    const account = throttledAccount();
    const result = await account.handler()(scheduledEvent());

    const subjects = account.notices().map((notice) => notice.subject);
    expect(subjects.sort()).toEqual([
      'registry-guard: COULD NOT VERIFY 3 buckets (sweep, account 123456789012, us-east-1)',
      'registry-guard: closed non-compliant bucket open-data',
    ]);
    const digest = account.notices().find((notice) => notice.subject.includes('COULD NOT VERIFY'));
    expect(digest?.message).toContain(
      '- 3 x GetBucketAcl failed with SlowDown: Please reduce your request rate.',
    );
    for (const bucket of ['census-a', 'census-b', 'census-c']) {
      expect(digest?.message).toContain(
        `- ${bucket}: GetBucketAcl failed with SlowDown: Please reduce your request rate.`,
      );
    }
    const verdicts = Object.fromEntries(
      account.evaluations().map((evaluation) => [evaluation.ComplianceResourceId, evaluation.ComplianceType]),
    );
    expect(verdicts).toMatchObject({
      'census-a': 'NON_COMPLIANT',
      'census-b': 'NON_COMPLIANT',
      'census-c': 'NON_COMPLIANT',
      'open-data': 'NON_COMPLIANT',
      'quiet-a': 'COMPLIANT',
    });
    expect(result).toMatchObject({ digested: 3, noticesSent: 2 });
    expect(
      account.logger.errors().filter((message) => message === 'Bucket could not be verified'),
    ).toHaveLength(3);
  });

  test('a sweep with every bucket readable sends no digest', async () => {
    const account = new FakeAccount();
    account.addBucket('quiet-a', { blockPublicAccess: ALL_ON });
    const result = await account.handler()(scheduledEvent());
    expect(account.notices()).toEqual([]);
    expect(result.digested).toBe(0);
  });

  test('a refused bucket the sweep closed with Block Public Access keeps its own notice, with its evidence', async () => {
    const account = throttledAccount();
    account.addBucket('roll', { tags: [REGISTRY_TAG], policy: policyOf(publicStatement('roll')) });
    account.failAlways('GetBucketPolicy', 'roll', s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(scheduledEvent());
    const subjects = account.notices().map((notice) => notice.subject);
    expect(subjects).toContain('registry-guard: could not verify bucket roll');
    expect(subjects).toContain(
      'registry-guard: COULD NOT VERIFY 3 buckets (sweep, account 123456789012, us-east-1)',
    );
    expect(account.notices().find((notice) => notice.subject.endsWith('bucket roll'))?.message).toContain(
      'Evidence: s3://',
    );
  });

  test('report mode: the digest goes out too, nothing changed', async () => {
    const account = throttledAccount();
    await account.handler({ GUARD_MODE: 'report' })(scheduledEvent());
    const digest = account.notices().find((notice) => notice.subject.includes('COULD NOT VERIFY 3 buckets'));
    expect(digest?.message).toContain('Mode: report (nothing was changed)');
  });

  test.each([
    ['a Config change notification', () => configChangeEvent('census-a')],
    ['a CloudTrail API call', () => cloudTrailBucketEvent('PutBucketAcl', 'census-a')],
  ])('%s still pages for its one unverifiable bucket', async (_name, event) => {
    const account = throttledAccount();
    const result = await account.handler()(event());
    expect(account.notices().map((notice) => notice.subject)).toEqual([
      'registry-guard: could not verify bucket census-a',
    ]);
    expect(result.digested).toBeUndefined();
  });

  test('SNS refuses the digest: the sweep fails, the digest waits in the evidence bucket, and the next invocation delivers it once', async () => {
    const account = throttledAccount();
    account.snsMock
      .on(PublishCommand)
      .rejects(Object.assign(new Error('SNS is down'), { name: 'InternalError' }));
    await expect(account.handler()(scheduledEvent())).rejects.toBeInstanceOf(DeliveryError);
    const pending = [...account.records('_pending-notices/').values()];
    expect(pending.map((record) => (record.notice as { subject: string }).subject)).toContain(
      'registry-guard: COULD NOT VERIFY 3 buckets (sweep, account 123456789012, us-east-1)',
    );

    account.snsMock.reset();
    account.snsMock.on(PublishCommand).resolves({ MessageId: 'late' });
    for (const bucket of ['census-a', 'census-b', 'census-c'])
      account.failNext('GetBucketAcl', bucket, SLOW_DOWN, 0);
    await account.handler({}, { now: () => at(2 * MINUTE) })(configChangeEvent('quiet-a'));
    const late = account.notices().filter((notice) => notice.subject.includes('COULD NOT VERIFY'));
    expect(late).toHaveLength(1);
    expect(late[0].message).toMatch(/Delivered late: the first attempt/);
    expect(account.records('_pending-notices/').size).toBe(0);
  });
});

describe('a batch of a fanned-out sweep hands its unverifiable buckets over instead of paging', () => {
  function sweepRun(account: FakeAccount): RunContext {
    return createRunContext({
      s3: account.s3,
      s3Control: account.s3Control,
      config: account.config,
      sns: account.sns,
      settings: readGuardSettings({ AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN }),
      logger: account.logger,
      trigger: 'sweep batch 3 of 10',
      triggerKind: 'config-scheduled',
      accountId: ACCOUNT,
      region: REGION,
      now: () => NOW,
      newId: () => 'id000001',
      remainingMs: () => Number.POSITIVE_INFINITY,
    });
  }

  test('the hand-off gets every unverifiable outcome once, at the end; no notice is sent', async () => {
    const account = new FakeAccount();
    const report = new RunReport(sweepRun(account));
    const handedOver: (readonly BucketOutcome[])[] = [];
    report.digestUnverifiable(async (outcomes) => {
      handedOver.push(outcomes);
    });
    await report.bucket(unverifiableOutcome('census-a', 'GetBucketAcl failed with SlowDown'));
    await report.bucket(unverifiableOutcome('census-b', 'GetBucketTagging failed with InternalError'));
    expect(handedOver).toEqual([]);
    const result = await report.finish();
    expect(handedOver.map((outcomes) => outcomes.map((outcome) => outcome.bucket))).toEqual([
      ['census-a', 'census-b'],
    ]);
    expect(account.notices()).toEqual([]);
    expect(result.digested).toBe(2);
  });

  test('a batch with nothing unverifiable still hands over (an empty list): the batch is done', async () => {
    const report = new RunReport(sweepRun(new FakeAccount()));
    const handOff = jest.fn(async () => undefined);
    report.digestUnverifiable(handOff);
    await report.finish();
    expect(handOff).toHaveBeenCalledWith([]);
  });

  test('a hand-off that fails fails the run, so the batch is retried', async () => {
    const report = new RunReport(sweepRun(new FakeAccount()));
    report.digestUnverifiable(async () => {
      throw new Error('records bucket unreachable');
    });
    await report.bucket(unverifiableOutcome('census-a', 'GetBucketAcl failed with SlowDown'));
    await expect(report.finish()).rejects.toBeInstanceOf(DeliveryError);
  });
});

describe('composeUnverifiableDigest', () => {
  test('5,000 buckets with long reasons: the message stays within SNS’s limit, lists as many as fit and counts the rest', () => {
    const outcomes = Array.from({ length: 5_000 }, (_, index) =>
      unverifiableOutcome(
        `bucket-${String(index).padStart(5, '0')}-${'x'.repeat(40)}`,
        `GetBucketPolicy failed with InternalError: ${'We encountered an internal error. '.repeat(20)}`,
      ),
    );
    const notice = composeUnverifiableDigest(outcomes, CONTEXT);
    expect(Buffer.byteLength(notice.message, 'utf8')).toBeLessThanOrEqual(MAX_DIGEST_MESSAGE_BYTES);
    expect(notice.subject).toBe(
      'registry-guard: COULD NOT VERIFY 5000 buckets (sweep, account 123456789012, us-east-1)',
    );
    const listed = notice.message.split('\n').filter((line) => line.startsWith('- bucket-'));
    expect(listed.length).toBeGreaterThan(500);
    expect(listed.length).toBeLessThan(5_000);
    expect(listed.every((line) => line.slice(line.indexOf(': ') + 2).length <= 300)).toBe(true);
    expect(notice.message).toContain(`- ... and ${5_000 - listed.length} more, not listed`);
    expect(notice.attributes).toEqual({
      notice: 'could-not-verify-digest',
      compliance: 'NON_COMPLIANT',
      buckets: '5000',
      mode: 'remediate',
    });
  });

  test('buckets are listed by name, reasons counted most frequent first', () => {
    const notice = composeUnverifiableDigest(
      [
        unverifiableOutcome('b', 'GetBucketAcl failed with SlowDown'),
        unverifiableOutcome('c', 'GetBucketTagging failed with InternalError'),
        unverifiableOutcome('a', 'GetBucketAcl failed with SlowDown'),
      ],
      CONTEXT,
    );
    expect(notice.message).toContain(
      [
        'Reasons:',
        '- 2 x GetBucketAcl failed with SlowDown',
        '- 1 x GetBucketTagging failed with InternalError',
        '',
        'Buckets:',
        '- a: GetBucketAcl failed with SlowDown',
        '- b: GetBucketAcl failed with SlowDown',
        '- c: GetBucketTagging failed with InternalError',
      ].join('\n'),
    );
    expect(notice.message).not.toContain('more, not listed');
  });

  test('the subject never passes 100 characters', () => {
    const notice = composeUnverifiableDigest([unverifiableOutcome('a', 'x')], {
      ...CONTEXT,
      region: 'a-very-long-region-name-that-nobody-has-yet-'.repeat(3),
    });
    expect(notice.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(notice.subject).toMatch(/^registry-guard: COULD NOT VERIFY 1 bucket \(sweep/);
  });
});
