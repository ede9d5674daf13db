import { PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { mapWithConcurrency } from '../../lib/remediation/concurrency';
import {
  ALL_ON,
  EVIDENCE_BUCKET,
  FakeAccount,
  policyOf,
  publicStatement,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
} from './support';

const NOTIFICATION_TIME = new Date('2026-11-25T03:00:00.000Z');

describe('ScheduledNotification: sweep', () => {
  test('evaluates every bucket in the region once, ordered by notificationCreationTime', async () => {
    const account = new FakeAccount();
    account.addBucket('quiet-a', { blockPublicAccess: ALL_ON });
    account.addBucket('quiet-b', {});
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    account.addBucket('census-2026', { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON });
    account.addBucket('elsewhere', { region: 'eu-west-1', policy: policyOf(publicStatement('elsewhere')) });

    const result = await account.handler()(scheduledEvent());

    expect(account.s3Mock.commandCalls(ListBucketsCommand)[0].args[0].input).toMatchObject({
      BucketRegion: 'us-east-1',
    });
    const verdicts = Object.fromEntries(
      account.evaluations().map((evaluation) => [evaluation.ComplianceResourceId, evaluation.ComplianceType]),
    );
    expect(verdicts).toEqual({
      'census-2026': 'COMPLIANT',
      'open-data': 'NON_COMPLIANT',
      'quiet-a': 'COMPLIANT',
      'quiet-b': 'COMPLIANT',
      [EVIDENCE_BUCKET]: 'COMPLIANT',
    });
    expect(
      account
        .evaluations()
        .every((evaluation) => evaluation.OrderingTimestamp?.getTime() === NOTIFICATION_TIME.getTime()),
    ).toBe(true);
    expect(result.evaluationsSent).toBe(5);
    expect(account.notices().map((notice) => notice.subject)).toEqual([
      'registry-guard: closed non-compliant bucket open-data',
    ]);
    expect(account.buckets.get('elsewhere')?.blockPublicAccess).toBeUndefined();
  });

  test('reads the account’s Block Public Access once for the whole sweep', async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 20; index += 1)
      account.addBucket(`bucket-${index}`, { blockPublicAccess: ALL_ON });
    await account.handler()(scheduledEvent());
    expect(account.s3ControlMock.commandCalls(GetAccountPublicAccessBlockCommand)).toHaveLength(1);
  });

  test('sends 150 buckets’ evaluations as a batch of 100 then a batch of 50, across ListBuckets pages', async () => {
    const account = new FakeAccount();
    account.buckets.clear();
    account.listPageSize = 100;
    for (let index = 0; index < 150; index += 1) {
      account.addBucket(`bucket-${index.toString().padStart(3, '0')}`, { blockPublicAccess: ALL_ON });
    }
    await account.handler({ EVIDENCE_BUCKET: undefined })(scheduledEvent());
    expect(account.s3Mock.commandCalls(ListBucketsCommand)).toHaveLength(2);
    const batches = account.configMock.commandCalls(PutEvaluationsCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.Evaluations?.length)).toEqual([100, 50]);
    expect(batches.every((batch) => batch.ResultToken === 'eyJlbmNyeXB0ZWREYXRhIjpbOTksMTAwXX0=')).toBe(true);
    const names = batches.flatMap((batch) =>
      batch.Evaluations?.map((evaluation) => evaluation.ComplianceResourceId),
    );
    expect(new Set(names).size).toBe(150);
  });

  test('a bucket deleted between ListBuckets and its reads is NOT_APPLICABLE', async () => {
    const account = new FakeAccount();
    account.addBucket('short-lived', {});
    account.failAlways(
      'GetBucketTagging',
      'short-lived',
      s3Error('NoSuchBucket', 'The specified bucket does not exist', 404),
    );
    await account.handler()(scheduledEvent());
    expect(
      account.evaluations().find((evaluation) => evaluation.ComplianceResourceId === 'short-lived'),
    ).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: 'The bucket no longer exists.',
    });
  });

  test('without AWS_REGION it sweeps every bucket it can list', async () => {
    const account = new FakeAccount();
    account.addBucket('elsewhere', { region: 'eu-west-1', blockPublicAccess: ALL_ON });
    await account.handler({ AWS_REGION: undefined })(scheduledEvent());
    expect(account.s3Mock.commandCalls(ListBucketsCommand)[0].args[0].input.BucketRegion).toBeUndefined();
    expect(account.evaluations().map((evaluation) => evaluation.ComplianceResourceId)).toContain('elsewhere');
  });
});

describe('mapWithConcurrency', () => {
  test('never runs more than the limit at once, and keeps the items’ order', async () => {
    let running = 0;
    let mostRunning = 0;
    const results = await mapWithConcurrency([...Array(30).keys()], 8, async (item) => {
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 1 + (item % 3)));
      running -= 1;
      return item * 2;
    });
    expect(mostRunning).toBe(8);
    expect(results).toEqual([...Array(30).keys()].map((item) => item * 2));
  });

  test('handles an empty list', async () => {
    expect(await mapWithConcurrency([], 8, async () => 1)).toEqual([]);
  });
});
