import { PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { PutBucketAclCommand, PutBucketPolicyCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { DeliveryError } from '../../lib/remediation/errors';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  OWNER_GRANT,
  policyOf,
  PUBLIC_READ_GRANT,
  publicStatement,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
} from './support';

const ROLL = 'electoral-roll';

function openRegistry(account: FakeAccount): void {
  account.addBucket(ROLL, {
    tags: [REGISTRY_TAG],
    policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
    grants: [OWNER_GRANT, PUBLIC_READ_GRANT],
  });
}

function writes(account: FakeAccount): string[] {
  return account.operations().filter((name) => /(^|:)(Put|Delete)/.test(name));
}

/** Writes besides the guard's bookkeeping (a notice's pending record, incident claims, the ledger). */
function changes(account: FakeAccount): string[] {
  return account.operationsBesideGuardRecords().filter((name) => /(^|:)(Put|Delete)/.test(name));
}

describe('reading the bucket fails', () => {
  test('AccessDenied: NON_COMPLIANT “could not be verified”, on-call told, error logged; Block Public Access turned on (backed up), nothing else changed', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    account.failAlways('GetBucketPolicy', ROLL, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(configChangeEvent(ROLL));

    expect(account.evaluations()[0]).toMatchObject({
      ComplianceType: 'NON_COMPLIANT',
      Annotation:
        'Could not be verified, so treated as non-compliant: GetBucketPolicy failed with AccessDenied: Access Denied.',
    });
    // A refusal may be the bucket's own policy denying the guard: Block Public Access, which only tightens
    // and whose previous value was read, is turned on; the policy and ACL are left alone.
    expect(changes(account)).toEqual(['PutObject', 'PutPublicAccessBlock']);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
    const [evidence] = account.evidence().values();
    expect(evidence.before).toMatchObject({
      blockPublicAccess: null,
      unreadable: ['GetBucketPolicy: AccessDenied: Access Denied'],
    });
    const [notice] = account.notices();
    expect(notice.subject).toBe(`registry-guard: could not verify bucket ${ROLL}`);
    expect(notice.message).toContain(
      'Could not verify: GetBucketPolicy failed with AccessDenied: Access Denied.',
    );
    expect(notice.message).toContain('turned on Block Public Access, which only tightens');
    expect(account.logger.errors()).toEqual(['Bucket could not be verified']);
    expect(account.logger.entries.find((entry) => entry.level === 'error')?.attributes).toMatchObject({
      bucket: ROLL,
      error: 'GetBucketPolicy failed with AccessDenied: Access Denied',
    });
  });

  test('NoSuchBucket: NOT_APPLICABLE, nobody paged', async () => {
    const account = new FakeAccount();
    await account.handler()(configChangeEvent('deleted-just-now'));
    expect(account.evaluations()[0]).toMatchObject({
      ComplianceResourceId: 'deleted-just-now',
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: 'The bucket no longer exists.',
    });
    expect(account.notices()).toEqual([]);
  });

  test('throttling that outlasts the SDK’s retries is “could not be verified”; the next run judges the bucket', async () => {
    // The SDK retries throttling itself (see clients.test.ts); the mock bypasses that, so this is what the
    // guard does when the retries run out: never COMPLIANT, and no change made on a half-read bucket.
    const account = new FakeAccount();
    openRegistry(account);
    account.failNext('GetBucketAcl', ROLL, s3Error('ThrottlingException', 'Rate exceeded', 400));
    const handler = account.handler();

    await handler(configChangeEvent(ROLL));
    expect(account.evaluations()[0].Annotation).toBe(
      'Could not be verified, so treated as non-compliant: GetBucketAcl failed with ThrottlingException: Rate exceeded.',
    );
    expect(changes(account)).toEqual([]);

    await handler(configChangeEvent(ROLL));
    expect(account.evaluations()[1].ComplianceType).toBe('NON_COMPLIANT');
    expect(account.evaluations()[1].Annotation).toMatch(/remediated: evidence saved/);
    expect(account.buckets.get(ROLL)?.grants).toEqual([OWNER_GRANT]);
  });

  test('an unreadable account setting: buckets are judged without it, and the annotation says so', async () => {
    const account = new FakeAccount();
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    account.failAlways('GetAccountPublicAccessBlock', ACCOUNT, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler({ GUARD_MODE: 'report' })(configChangeEvent('open-data'));
    expect(account.evaluations()[0].ComplianceType).toBe('NON_COMPLIANT');
    expect(account.evaluations()[0].Annotation).toContain(
      'account-level Block Public Access could not be read (AccessDenied: Access Denied): judged without it',
    );
    expect(account.logger.errors()).toContain(
      'Account-level Block Public Access could not be read: judging buckets without it',
    );
  });
});

describe('missing configuration is read as "none", not as an error', () => {
  test('no bucket policy (NoSuchBucketPolicy) and no tags (NoSuchTagSet): judged on the rest', async () => {
    const account = new FakeAccount();
    account.addBucket('plain', { blockPublicAccess: ALL_ON });
    await account.handler()(configChangeEvent('plain'));
    expect(account.evaluations()[0]).toMatchObject({
      ComplianceType: 'COMPLIANT',
      Annotation: 'Not public.',
    });
  });

  test('no Block Public Access configuration (moto’s default): every setting off; fine for a private ordinary bucket', async () => {
    const account = new FakeAccount();
    account.addBucket('plain', {});
    await account.handler()(configChangeEvent('plain'));
    expect(account.evaluations()[0].ComplianceType).toBe('COMPLIANT');
    expect(writes(account)).toEqual([]);
  });

  test('no Block Public Access configuration on a registry bucket: NON_COMPLIANT, all four turned on', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.evaluations()[0].Annotation).toMatch(/^Registry Block Public Access off \(all four\)/);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
  });
});

describe('remediation fails', () => {
  test('evidence write fails: no policy or ACL rewrite, Block Public Access still turned on', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    account.failAlways('PutObject', EVIDENCE_BUCKET, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(configChangeEvent(ROLL));

    expect(account.s3Mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
    expect(account.s3Mock.commandCalls(PutBucketAclCommand)).toHaveLength(0);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.evaluations()[0].Annotation).toMatch(
      /remediated: evidence write FAILED, Block Public Access on \(verified\), policy left for a human, ACL left as is/,
    );
    const [notice] = account.notices();
    expect(notice.subject).toBe(`registry-guard: FAILED to fully close registry bucket ${ROLL}`);
    expect(notice.message).toContain(
      '- Left the public bucket policy for a human: not done (the evidence write failed, so there is no backup to restore from)',
    );
    expect(notice.message).toContain(
      'Evidence: none written, so the bucket policy and ACL were left for a human to fix.',
    );
    expect(account.logger.errors()).toEqual(['Remediation failed']);
  });

  test('no EVIDENCE_BUCKET: Block Public Access on, policy and ACL left for a human, no loop detection', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    await account.handler({ EVIDENCE_BUCKET: undefined })(configChangeEvent(ROLL));
    expect(writes(account)).toEqual(['PutPublicAccessBlock']);
    const message = account.notices()[0].message;
    expect(message).toContain(
      '- Left the public bucket policy for a human: not done (no EVIDENCE_BUCKET is set to back it up first)',
    );
    expect(message).toContain(
      '- Left the public ACL for a human: not done (no EVIDENCE_BUCKET is set to back it up first)',
    );
    expect(message).toContain('Loop detection unavailable: no EVIDENCE_BUCKET to keep the history in.');
  });

  test('PutPublicAccessBlock denied: reported as FAILED, loudly', async () => {
    const account = new FakeAccount();
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    account.failAlways('PutPublicAccessBlock', 'open-data', s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(configChangeEvent('open-data'));
    expect(account.notices()[0].subject).toBe('registry-guard: FAILED to fully close bucket open-data');
    expect(account.notices()[0].message).toContain(
      '- Turned on all four bucket-level Block Public Access settings: FAILED (AccessDenied: Access Denied)',
    );
    expect(account.evaluations()[0].Annotation).toContain('Block Public Access FAILED');
  });

  test('Block Public Access that does not hold when read back is a failure, not a success', async () => {
    const account = new FakeAccount();
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    // S3 acknowledges the write but the setting does not change (another tool reverting it at once).
    account.s3Mock.on(PutPublicAccessBlockCommand).resolves({});
    await account.handler()(configChangeEvent('open-data'));
    expect(account.notices()[0].message).toContain(
      '- Turned on all four bucket-level Block Public Access settings: FAILED (read back: still off: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)',
    );
  });
});

describe('delivery fails', () => {
  test('PutEvaluations failing raises DeliveryError after the bucket is closed and on-call told', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    account.configMock.on(PutEvaluationsCommand).rejects(s3Error('ThrottlingException', 'Rate exceeded'));
    await expect(account.handler()(configChangeEvent(ROLL))).rejects.toBeInstanceOf(DeliveryError);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.notices()).toHaveLength(1);
    expect(account.logger.errors()).toContain(
      'PutEvaluations for 1 buckets failed: ThrottlingException: Rate exceeded',
    );
  });

  test('evaluations Config rejects are logged', async () => {
    const account = new FakeAccount();
    account.addBucket('plain', { blockPublicAccess: ALL_ON });
    account.configMock
      .on(PutEvaluationsCommand)
      .callsFake((input) => ({ FailedEvaluations: input.Evaluations }));
    const result = await account.handler()(scheduledEvent());
    expect(result.evaluationsSent).toBe(0);
    const logged = account.logger.entries.find((entry) => entry.message === 'Config rejected evaluations');
    expect(logged?.attributes.failedEvaluations).toEqual(
      expect.arrayContaining([{ bucket: 'plain', compliance: 'COMPLIANT' }]),
    );
  });

  test('SNS failing raises DeliveryError; the bucket is still closed', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    account.snsMock.on(PublishCommand).rejects(s3Error('AuthorizationError', 'Not authorized'));
    await expect(account.handler()(cloudTrailBucketEvent('PutBucketAcl', ROLL))).rejects.toThrow(
      /Publishing the notice "registry-guard: closed non-compliant registry bucket electoral-roll" to .* failed/,
    );
    expect(account.buckets.get(ROLL)?.grants).toEqual([OWNER_GRANT]);
  });

  test('without NOTIFY_TOPIC_ARN the notice is logged instead', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    await account.handler({ NOTIFY_TOPIC_ARN: undefined })(configChangeEvent(ROLL));
    expect(account.snsMock.calls()).toHaveLength(0);
    const logged = account.logger.entries.find((entry) =>
      entry.message.startsWith('NOTIFY_TOPIC_ARN is not set'),
    );
    expect(logged?.attributes).toMatchObject({
      bucket: ROLL,
      notice: { subject: expect.stringContaining(ROLL) },
    });
  });
});
