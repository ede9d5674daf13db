import { PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { GetBucketTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { BUCKET_EVENT_NAMES } from '../../lib/guard-facts';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudTrailAccountEvent,
  cloudTrailBucketEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  policyOf,
  publicStatement,
  REGISTRY_TAG,
  s3Error,
} from './support';

const ROLL = 'electoral-roll';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/DataEngineer/alice';
const BOB = 'arn:aws:iam::123456789012:user/bob';

describe('CloudTrail bucket events (the fast path)', () => {
  test('PutBucketPolicy: closes the registry bucket, names the caller, sends no evaluation', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
      blockPublicAccess: ALL_ON,
    });
    const result = await account.handler()(cloudTrailBucketEvent('PutBucketPolicy', ROLL));

    expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
    expect(JSON.parse(account.buckets.get(ROLL)?.policy ?? '').Statement).toEqual([auditorStatement(ROLL)]);
    expect(account.configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
    const [notice] = account.notices();
    expect(notice.message.split('\n')).toEqual(
      expect.arrayContaining([
        `Changed by: ${ALICE}`,
        'Trigger: CloudTrail PutBucketPolicy at 2026-11-25T02:49:00Z',
      ]),
    );
    const [document] = account.evidence().values();
    expect(document).toMatchObject({
      caller: ALICE,
      event: 'CloudTrail PutBucketPolicy at 2026-11-25T02:49:00Z',
    });
  });

  test.each(BUCKET_EVENT_NAMES)('%s: judges the named bucket from its live state', async (eventName) => {
    const account = new FakeAccount();
    account.addBucket('fresh-bucket', { blockPublicAccess: ALL_ON });
    const result = await account.handler()(cloudTrailBucketEvent(eventName, 'fresh-bucket'));
    expect(account.s3Mock.commandCalls(GetBucketTaggingCommand, { Bucket: 'fresh-bucket' })).toHaveLength(1);
    expect(result.buckets.map((outcome) => [outcome.bucket, outcome.compliance])).toEqual([
      ['fresh-bucket', 'COMPLIANT'],
    ]);
    expect(account.notices()).toEqual([]);
  });
});

describe('CloudTrail account events', () => {
  test('DeleteAccountPublicAccessBlock: records the previous setting, then turns all four on and reads them back', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = undefined;
    const result = await account.handler()(cloudTrailAccountEvent('DeleteAccountPublicAccessBlock'));

    expect(account.operationsBesideGuardRecords()).toEqual([
      's3control:GetPublicAccessBlock',
      'PutObject',
      's3control:PutPublicAccessBlock',
      's3control:GetPublicAccessBlock',
    ]);
    expect(account.s3ControlMock.commandCalls(PutAccountPublicAccessBlockCommand)[0].args[0].input).toEqual({
      AccountId: ACCOUNT,
      PublicAccessBlockConfiguration: ALL_ON,
    });
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
    const key = account.s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Key;
    expect(key).toBe(`_account/${ACCOUNT}/2026-11-25T03:00:00.000Z-id000001.json`);
    expect(account.evidence().get(key ?? '')).toMatchObject({
      caller: BOB,
      before: { accountBlockPublicAccess: null },
    });
    expect(result.account?.actions.map((action) => [action.status, action.verified])).toEqual([
      ['done', false],
      ['done', true],
    ]);
    const [notice] = account.notices();
    expect(notice.subject).toBe(`registry-guard: restored account ${ACCOUNT} Block Public Access`);
    expect(notice.message.split('\n')).toEqual(
      expect.arrayContaining([
        `Changed by: ${BOB}`,
        'Previous setting: none (all off)',
        `Evidence: s3://${EVIDENCE_BUCKET}/${key}`,
        `- Turned on all four account-level Block Public Access settings for ${ACCOUNT}: done, verified by reading it back`,
      ]),
    );
  });

  test('PutAccountPublicAccessBlock that turned a setting off: the restore recipe puts back exactly what was there', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = { ...ALL_ON, RestrictPublicBuckets: false };
    await account.handler()(cloudTrailAccountEvent('PutAccountPublicAccessBlock'));
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
    expect(account.notices()[0].message).toContain(
      `aws s3control put-public-access-block --account-id ${ACCOUNT} --public-access-block-configuration ` +
        'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=false',
    );
  });

  test('PutAccountPublicAccessBlock leaving all four on: nothing to do, nobody paged', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    await account.handler()(cloudTrailAccountEvent('PutAccountPublicAccessBlock'));
    expect(account.operationsBesideGuardRecords()).toEqual(['s3control:GetPublicAccessBlock']);
    expect(account.notices()).toEqual([]);
  });

  test('report mode only reports', async () => {
    const account = new FakeAccount();
    await account.handler({ GUARD_MODE: 'report' })(cloudTrailAccountEvent('DeleteAccountPublicAccessBlock'));
    expect(account.operations()).toEqual(['s3control:GetPublicAccessBlock']);
    expect(account.accountBlockPublicAccess).toBeUndefined();
    const [notice] = account.notices();
    expect(notice.subject).toBe(`registry-guard: account ${ACCOUNT} Block Public Access is off`);
    expect(notice.message).toContain('Mode: report (nothing was changed)');
  });

  test('an unreadable account setting is reported, not changed', async () => {
    const account = new FakeAccount();
    account.failAlways('GetAccountPublicAccessBlock', ACCOUNT, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(cloudTrailAccountEvent('DeleteAccountPublicAccessBlock'));
    expect(account.operationsBesideGuardRecords()).toEqual(['s3control:GetPublicAccessBlock']);
    expect(account.notices()[0].message).toContain(
      'Could not verify: S3 Control GetPublicAccessBlock failed: AccessDenied: Access Denied.',
    );
    expect(account.logger.errors()).toEqual(['Account-level Block Public Access checked']);
  });
});
