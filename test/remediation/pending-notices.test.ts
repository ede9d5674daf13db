/**
 * Pending notices delivered late: once under concurrency (a lease), past records that are not notices (moved
 * aside, reported once), and past records that cannot be taken now (the listing is paged).
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { EVIDENCE_PREFIXES } from '../../lib/guard-facts';
import { DeliveryError } from '../../lib/remediation/errors';
import {
  deliverOutstandingNotices,
  MAX_OUTSTANDING_PER_RUN,
  PENDING_NOTICE_LEASE_MS,
  PendingNoticeRecord,
} from '../../lib/remediation/report/pending-notices';
import { createRunContext, RunContext } from '../../lib/remediation/run-context';
import { readGuardSettings } from '../../lib/remediation/settings';
import {
  ACCOUNT,
  ALL_ON,
  cloudTrailBucketEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  NOW,
  REGION,
  s3Error,
  TOPIC_ARN,
} from './support';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const PENDING = EVIDENCE_PREFIXES.pendingNotices;
const UNREADABLE = EVIDENCE_PREFIXES.unreadablePendingNotices;

function at(offsetMs: number): Date {
  return new Date(NOW.getTime() + offsetMs);
}

/** One invocation's context over the fake account, in remediate mode with an evidence bucket and a topic. */
function runAt(account: FakeAccount, now: Date, trigger = 'CloudTrail PutBucketTagging'): RunContext {
  let sequence = 0;
  return createRunContext({
    s3: account.s3,
    s3Control: account.s3Control,
    config: account.config,
    sns: account.sns,
    settings: readGuardSettings({
      AWS_REGION: REGION,
      EVIDENCE_BUCKET,
      NOTIFY_TOPIC_ARN: TOPIC_ARN,
    }),
    logger: account.logger,
    trigger,
    triggerKind: 'bucket-api-call',
    accountId: ACCOUNT,
    region: REGION,
    now: () => now,
    newId: () => `run${(sequence += 1).toString().padStart(6, '0')}`,
    remainingMs: () => Number.POSITIVE_INFINITY,
  });
}

/** A pending record as `sendNotice` leaves it when its publish failed, plus any lease fields. */
function pendingRecord(subject: string, lease: Partial<PendingNoticeRecord> = {}): PendingNoticeRecord {
  return {
    schema: 'registry-guard/pending-notice/v1',
    firstAttemptAt: NOW.toISOString(),
    trigger: 'CloudTrail PutBucketPolicy',
    notice: {
      subject,
      message: `Bucket: ${subject}`,
      attributes: { bucket: subject, outcome: 'remediated' },
    },
    ...lease,
  };
}

/** Writes a record straight into the fake evidence bucket, as an earlier invocation (or anyone) left it. */
function seed(account: FakeAccount, key: string, body: PendingNoticeRecord | string): void {
  account.objects.set(
    `${EVIDENCE_BUCKET}/${key}`,
    typeof body === 'string' ? body : `${JSON.stringify(body)}\n`,
  );
}

/** Keys under one prefix of the evidence bucket, sorted. */
function keysUnder(account: FakeAccount, prefix: string): string[] {
  return [...account.objects.keys()]
    .filter((name) => name.startsWith(`${EVIDENCE_BUCKET}/${prefix}`))
    .map((name) => name.slice(EVIDENCE_BUCKET.length + 1))
    .sort();
}

function lateNotices(account: FakeAccount): { subject: string; message: string }[] {
  return account.notices().filter((notice) => notice.message.includes('Delivered late: the first attempt'));
}

describe('the lease: one publish per pending record', () => {
  test('twenty concurrent deliverers publish a pending record once, and it is deleted', async () => {
    const account = new FakeAccount();
    seed(account, `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`, pendingRecord('roll'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_unused, index) =>
        deliverOutstandingNotices(runAt(account, at(MINUTE), `CloudTrail event ${index}`)),
      ),
    );
    expect(account.notices()).toHaveLength(1);
    expect(results.reduce((sum, result) => sum + result.delivered, 0)).toBe(1);
    // The others passed it over: none of them fails its invocation for it.
    expect(results.flatMap((result) => result.failures)).toEqual([]);
    expect(keysUnder(account, PENDING)).toEqual([]);
  });

  test('the lease is a conditional rewrite with the ETag read, naming when and by whom', async () => {
    const account = new FakeAccount();
    const key = `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`;
    seed(account, key, pendingRecord('roll'));
    await deliverOutstandingNotices(runAt(account, at(MINUTE), 'AWS Config scheduled sweep'));
    const leaseWrites = account.s3Mock
      .commandCalls(PutObjectCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.Key === key);
    expect(leaseWrites).toHaveLength(1);
    expect(leaseWrites[0].IfMatch).toMatch(/^"[0-9a-f]{32}"$/);
    expect(JSON.parse(String(leaseWrites[0].Body))).toMatchObject({
      deliveringAt: at(MINUTE).toISOString(),
      deliveringBy: 'AWS Config scheduled sweep',
      notice: { subject: 'roll' },
    });
  });

  test('a record another invocation leased less than a lease ago is left to it', async () => {
    const account = new FakeAccount();
    const key = `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`;
    seed(
      account,
      key,
      pendingRecord('roll', {
        deliveringAt: at(MINUTE - 10 * SECOND).toISOString(),
        deliveringBy: 'CloudTrail PutBucketAcl',
      }),
    );
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result).toEqual({ delivered: 0, failures: [] });
    expect(account.notices()).toHaveLength(0);
    expect(keysUnder(account, PENDING)).toEqual([key]);
  });

  test('a lease that expired is taken over: its holder stopped, the notice is delivered', async () => {
    const account = new FakeAccount();
    seed(
      account,
      `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`,
      pendingRecord('roll', {
        deliveringAt: at(MINUTE - PENDING_NOTICE_LEASE_MS - SECOND).toISOString(),
        deliveringBy: 'CloudTrail PutBucketAcl',
      }),
    );
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result).toEqual({ delivered: 1, failures: [] });
    expect(lateNotices(account)).toHaveLength(1);
    expect(lateNotices(account)[0].message).toContain(
      `Delivered late: the first attempt, at ${NOW.toISOString()} (CloudTrail PutBucketPolicy), failed`,
    );
    expect(keysUnder(account, PENDING)).toEqual([]);
  });

  test('a lease dated far in the future holds nothing: the record does not wait forever', async () => {
    const account = new FakeAccount();
    seed(
      account,
      `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`,
      pendingRecord('roll', { deliveringAt: '2099-01-01T00:00:00.000Z', deliveringBy: 'someone' }),
    );
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result.delivered).toBe(1);
  });

  test('a publish that fails keeps the record under its lease; a run after the lease delivers it', async () => {
    const account = new FakeAccount();
    const key = `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`;
    seed(account, key, pendingRecord('roll'));
    account.snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabled' }));

    const failed = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(failed.delivered).toBe(0);
    expect(failed.failures).toHaveLength(1);
    expect(failed.failures[0]).toMatch(/pending-notices\/.*id000001\.json failed again: KMSDisabled/);
    expect(keysUnder(account, PENDING)).toEqual([key]);

    // Within the lease, another invocation leaves it: the first may still be publishing, for all it knows.
    account.snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const within = await deliverOutstandingNotices(runAt(account, at(MINUTE + 30 * SECOND)));
    expect(within).toEqual({ delivered: 0, failures: [] });

    const after = await deliverOutstandingNotices(
      runAt(account, at(MINUTE + PENDING_NOTICE_LEASE_MS + SECOND)),
    );
    expect(after).toEqual({ delivered: 1, failures: [] });
    expect(keysUnder(account, PENDING)).toEqual([]);
  });

  test('a lease write that fails for another reason publishes nothing and keeps the record', async () => {
    const account = new FakeAccount();
    const key = `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`;
    seed(account, key, pendingRecord('roll'));
    account.failNext(
      'PutObject',
      EVIDENCE_BUCKET,
      s3Error('SlowDown', 'Please reduce your request rate', 503),
    );
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result.delivered).toBe(0);
    expect(result.failures).toEqual([expect.stringMatching(/^Leasing the pending notice .* SlowDown/)]);
    expect(account.notices()).toHaveLength(0);
    expect(keysUnder(account, PENDING)).toEqual([key]);
  });
});

describe('records that are not pending notices', () => {
  const poisonKey = `${PENDING}2026-11-25T02:00:00.000Z-broken.json`;

  test('are reported once, moved aside, and the notices behind them are delivered in the same run', async () => {
    const account = new FakeAccount().addBucket('quiet', { blockPublicAccess: ALL_ON });
    seed(account, poisonKey, 'not json at all');
    seed(account, `${PENDING}2026-11-25T02:30:00.000Z-id000001.json`, pendingRecord('roll-1'));
    seed(account, `${PENDING}2026-11-25T02:31:00.000Z-id000002.json`, pendingRecord('roll-2'));
    const handler = account.handler({}, { now: () => at(MINUTE) });

    const first = await handler(cloudTrailBucketEvent('PutBucketTagging', 'quiet')).catch(
      (error: unknown) => error,
    );
    expect(first).toBeInstanceOf(DeliveryError);
    expect((first as DeliveryError).failures).toEqual([
      expect.stringMatching(
        /broken\.json is unreadable \(SyntaxError: .*\): moved to s3:\/\/.*\/_pending-notices-unreadable\/2026-11-25T02:00:00\.000Z-broken\.json/,
      ),
    ]);
    expect(lateNotices(account).map((notice) => notice.subject)).toEqual(['roll-1', 'roll-2']);
    expect(keysUnder(account, PENDING)).toEqual([]);
    expect(keysUnder(account, UNREADABLE)).toEqual([`${UNREADABLE}2026-11-25T02:00:00.000Z-broken.json`]);
    // Kept as it was found, for a person to read.
    expect(account.objects.get(`${EVIDENCE_BUCKET}/${UNREADABLE}2026-11-25T02:00:00.000Z-broken.json`)).toBe(
      'not json at all',
    );

    // The next run is clean: nothing fails, nothing is reported again.
    const errorsBefore = account.logger.errors().length;
    const second = await handler(cloudTrailBucketEvent('PutBucketTagging', 'quiet'));
    expect(second.noticesSent).toBe(0);
    expect(account.logger.errors().slice(errorsBefore)).toEqual([]);
  });

  test('a record with valid JSON but no notice in it is moved aside the same way', async () => {
    const account = new FakeAccount();
    seed(account, poisonKey, '{"schema":"registry-guard/pending-notice/v0","firstAttemptAt":"yesterday"}\n');
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result.failures).toEqual([expect.stringContaining('it is not a pending notice record')]);
    expect(keysUnder(account, PENDING)).toEqual([]);
    expect(keysUnder(account, UNREADABLE)).toHaveLength(1);
  });

  test('found by several invocations at once, it is reported by one of them', async () => {
    const account = new FakeAccount();
    seed(account, poisonKey, 'not json at all');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => deliverOutstandingNotices(runAt(account, at(MINUTE)))),
    );
    expect(results.flatMap((result) => result.failures)).toHaveLength(1);
    expect(account.logger.errors().filter((line) => line.includes('broken.json'))).toHaveLength(1);
    expect(keysUnder(account, PENDING)).toEqual([]);
  });

  test('when it cannot be moved, it stays, is reported, and the next run tries again', async () => {
    const account = new FakeAccount();
    seed(account, poisonKey, 'not json at all');
    account.failNext('PutObject', EVIDENCE_BUCKET, s3Error('AccessDenied', 'Access Denied', 403));
    const first = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(first.failures).toEqual([
      expect.stringMatching(/broken\.json is unreadable .* could not be moved .*AccessDenied/),
    ]);
    expect(keysUnder(account, PENDING)).toEqual([poisonKey]);

    const second = await deliverOutstandingNotices(runAt(account, at(2 * MINUTE)));
    expect(second.failures).toEqual([expect.stringContaining('moved to')]);
    expect(keysUnder(account, PENDING)).toEqual([]);
  });

  test('a record that cannot be read at all (GetObject fails) is reported and left in place', async () => {
    const account = new FakeAccount();
    const key = `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`;
    seed(account, key, pendingRecord('roll'));
    account.failNext(
      'GetObject',
      EVIDENCE_BUCKET,
      s3Error('SlowDown', 'Please reduce your request rate', 503),
    );
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result.failures).toEqual([expect.stringMatching(/^Reading the pending notice .* SlowDown/)]);
    expect(keysUnder(account, PENDING)).toEqual([key]);
    expect(keysUnder(account, UNREADABLE)).toEqual([]);
  });
});

describe('paging: records that cannot be taken now do not starve the ones behind them', () => {
  test('a notice behind sixty leased records is delivered, the listing followed page by page', async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 60; index += 1) {
      seed(
        account,
        `${PENDING}2026-11-25T01:00:00.000Z-leased${String(index).padStart(3, '0')}.json`,
        pendingRecord(`leased-${index}`, {
          deliveringAt: at(MINUTE - 5 * SECOND).toISOString(),
          deliveringBy: 'CloudTrail PutBucketAcl',
        }),
      );
    }
    seed(account, `${PENDING}2026-11-25T02:00:00.000Z-id000001.json`, pendingRecord('roll'));
    const result = await deliverOutstandingNotices(runAt(account, at(MINUTE)));
    expect(result).toEqual({ delivered: 1, failures: [] });
    expect(account.notices().map((notice) => notice.subject)).toEqual(['roll']);
    const listings = account.s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(listings).toHaveLength(2);
    expect(listings[0].ContinuationToken).toBeUndefined();
    expect(listings[1].ContinuationToken).toEqual(expect.any(String));
  });

  test(`at most ${MAX_OUTSTANDING_PER_RUN} records are attempted per run, across pages; the backlog drains over runs`, async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 120; index += 1) {
      seed(
        account,
        `${PENDING}2026-11-25T02:00:00.000Z-id${String(index).padStart(6, '0')}.json`,
        pendingRecord(`roll-${String(index).padStart(3, '0')}`),
      );
    }
    const delivered = [];
    for (let run = 1; run <= 3; run += 1) {
      delivered.push((await deliverOutstandingNotices(runAt(account, at(run * MINUTE)))).delivered);
    }
    expect(delivered).toEqual([MAX_OUTSTANDING_PER_RUN, MAX_OUTSTANDING_PER_RUN, 20]);
    // Oldest first.
    expect(account.notices()[0].subject).toBe('roll-000');
    expect(account.notices()[119].subject).toBe('roll-119');
    expect(keysUnder(account, PENDING)).toEqual([]);
  });

  test('records younger than the minimum age are passed over without counting, and left to their writer', async () => {
    const account = new FakeAccount();
    seed(account, `${PENDING}2026-11-25T03:00:00.000Z-id000001.json`, pendingRecord('roll'));
    // The fake lists every object as written at NOW.
    const result = await deliverOutstandingNotices(runAt(account, at(10 * SECOND)));
    expect(result).toEqual({ delivered: 0, failures: [] });
    expect(account.s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(keysUnder(account, PENDING)).toHaveLength(1);
  });
});
