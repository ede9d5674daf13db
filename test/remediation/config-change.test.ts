import { createHash } from 'crypto';
import {
  GetBucketTaggingCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GuardResult } from '../../lib/remediation/report/run-report';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  AUTHENTICATED_USERS,
  configChangeEvent,
  denyInsecureTransport,
  EVIDENCE_BUCKET,
  FakeAccount,
  LOG_DELIVERY_GRANT,
  oversizedEvent,
  OWNER,
  OWNER_GRANT,
  policyOf,
  PUBLIC_READ_GRANT,
  publicStatement,
  REGISTRY_TAG,
} from './support';

const ROLL = 'electoral-roll';
const CAPTURE_TIME = new Date('2026-11-25T02:40:11.123Z');
/** The evidence object of the first run at NOW. */
const EVIDENCE_KEY = `${ROLL}/2026-11-25T03:00:00.000Z-id000001.json`;

/** A registry bucket opened three ways: a public statement, a public ACL grant, Block Public Access off. */
function openedRegistry(account: FakeAccount): string {
  const policy = policyOf(publicStatement(ROLL), auditorStatement(ROLL), denyInsecureTransport(ROLL));
  account.addBucket(ROLL, {
    tags: [REGISTRY_TAG, { Key: 'owner', Value: 'electoral-commission' }],
    policy,
    grants: [OWNER_GRANT, PUBLIC_READ_GRANT, LOG_DELIVERY_GRANT],
    blockPublicAccess: {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    },
    objectOwnership: 'BucketOwnerPreferred',
  });
  return policy;
}

describe('ConfigurationItemChangeNotification: an opened registry bucket', () => {
  let account: FakeAccount;
  let originalPolicy: string;
  let result: GuardResult;

  beforeEach(async () => {
    account = new FakeAccount();
    originalPolicy = openedRegistry(account);
    result = await account.handler()(configChangeEvent(ROLL));
  });

  test('judges the live bucket, not the configuration item’s copy (which says it is private)', () => {
    expect(account.evaluations()).toEqual([
      expect.objectContaining({
        ComplianceResourceType: 'AWS::S3::Bucket',
        ComplianceResourceId: ROLL,
        ComplianceType: 'NON_COMPLIANT',
        OrderingTimestamp: CAPTURE_TIME,
      }),
    ]);
    // Once to judge it, once after closing it to see what state it was left in (the incident's end).
    expect(account.s3Mock.commandCalls(GetBucketTaggingCommand, { Bucket: ROLL })).toHaveLength(2);
  });

  test('writes the evidence object before changing anything', () => {
    const sent = account.sent();
    const evidenceWrite = sent.findIndex(
      (operation) =>
        operation.name === 'PutObject' &&
        operation.bucket === EVIDENCE_BUCKET &&
        operation.key === EVIDENCE_KEY,
    );
    expect(evidenceWrite).toBeGreaterThan(-1);
    for (const write of ['PutPublicAccessBlock', 'PutBucketPolicy', 'PutBucketAcl']) {
      const index = sent.findIndex((operation) => operation.name === write && operation.bucket === ROLL);
      expect(index).toBeGreaterThan(evidenceWrite);
    }
  });

  test('claims the incident, backs up, then closes: each rewrite from a read taken right before it', () => {
    const sent = account.sent();
    const claim = sent.findIndex(
      (operation) => operation.name === 'PutObject' && operation.key?.startsWith(`_incidents/${ROLL}/`),
    );
    const evidenceWrite = sent.findIndex((operation) => operation.key === EVIDENCE_KEY);
    expect(claim).toBeGreaterThan(-1);
    expect(claim).toBeLessThan(evidenceWrite);
    const claimWrite = account.s3Mock.commandCalls(PutObjectCommand, { Key: sent[claim].key })[0];
    expect(claimWrite.args[0].input.IfNoneMatch).toBe('*');
    // After the four reads the judgement needs (sent at once, in any order):
    expect(account.operationsOn(ROLL).slice(4)).toEqual([
      'GetBucketOwnershipControls',
      'PutPublicAccessBlock',
      'GetPublicAccessBlock',
      'GetBucketPolicy',
      'PutBucketPolicy',
      'GetBucketPolicy',
      'GetBucketAcl',
      'PutBucketAcl',
      'GetBucketAcl',
      // Then the state the guard left it in, read once more: it differs, so the incident is closed.
      ...['GetBucketTagging', 'GetBucketPolicy', 'GetBucketAcl', 'GetPublicAccessBlock'],
    ]);
    expect(account.records('_incidents/').values().next().value).toMatchObject({
      closedAt: expect.any(String),
    });
  });

  test('the evidence is written once, never over another object, with its SHA-256 for S3 to check', () => {
    const [write] = account.s3Mock.commandCalls(PutObjectCommand, { Key: EVIDENCE_KEY });
    const body = account.objects.get(`${EVIDENCE_BUCKET}/${EVIDENCE_KEY}`) ?? '';
    expect(write.args[0].input).toMatchObject({
      IfNoneMatch: '*',
      ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
    });
    expect(result.buckets[0].remediation?.evidence).toEqual({
      bucket: EVIDENCE_BUCKET,
      key: EVIDENCE_KEY,
      uri: `s3://${EVIDENCE_BUCKET}/${EVIDENCE_KEY}`,
      versionId: expect.stringMatching(/^v\d+$/),
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  });

  test('the evidence holds the original policy text, ACL, Block Public Access, ownership, tags and event', () => {
    const evidence = account.evidence();
    expect([...evidence.keys()]).toEqual([EVIDENCE_KEY]);
    const document = evidence.get(EVIDENCE_KEY) as Record<string, unknown>;
    expect(document).toMatchObject({
      schema: 'registry-guard/evidence/v1',
      bucket: ROLL,
      account: ACCOUNT,
      region: 'us-east-1',
      registryBucket: true,
      event: 'AWS Config ConfigurationItemChangeNotification (rule registry-guard-public-access)',
      before: {
        policy: originalPolicy,
        acl: { Owner: OWNER, Grants: [OWNER_GRANT, PUBLIC_READ_GRANT, LOG_DELIVERY_GRANT] },
        blockPublicAccess: {
          BlockPublicAcls: false,
          IgnorePublicAcls: false,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
        ownershipControls: { objectOwnership: 'BucketOwnerPreferred' },
        tags: [REGISTRY_TAG, { Key: 'owner', Value: 'electoral-commission' }],
        accountBlockPublicAccess: null,
      },
    });
    expect((document.whatWasPublic as string[]).join('\n')).toMatch(/statement 1 \(Sid "PublicRead"\)/);
  });

  test('turns on all four Block Public Access settings and reads them back', () => {
    expect(account.s3Mock.commandCalls(PutPublicAccessBlockCommand)[0].args[0].input).toEqual({
      Bucket: ROLL,
      PublicAccessBlockConfiguration: ALL_ON,
      ExpectedBucketOwner: ACCOUNT,
    });
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
    const operations = account.operations();
    expect(operations.lastIndexOf('GetPublicAccessBlock')).toBeGreaterThan(
      operations.indexOf('PutPublicAccessBlock'),
    );
  });

  test('removes only the public statement: every other statement stays as parsed', () => {
    const calls = account.s3Mock.commandCalls(PutBucketPolicyCommand);
    expect(calls).toHaveLength(1);
    const written = JSON.parse(calls[0].args[0].input.Policy ?? '');
    expect(written).toEqual({
      Version: '2012-10-17',
      Id: 'RegistryPolicy',
      Statement: [auditorStatement(ROLL), denyInsecureTransport(ROLL)],
    });
  });

  test('removes only the public ACL grant: the owner and LogDelivery keep theirs', () => {
    const calls = account.s3Mock.commandCalls(PutBucketAclCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      Bucket: ROLL,
      AccessControlPolicy: { Owner: OWNER, Grants: [OWNER_GRANT, LOG_DELIVERY_GRANT] },
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  test('the annotation says what was wrong and what was done', () => {
    const [evaluation] = account.evaluations();
    expect(evaluation.Annotation).toMatch(
      /^Public via bucket policy, public via ACL, registry Block Public Access off \(all four\); remediated: evidence saved, Block Public Access on \(verified\), public statements removed \(verified\), public grants removed \(verified\); bucket policy statement 1/,
    );
    expect(evaluation.Annotation?.length).toBeLessThanOrEqual(256);
  });

  test('the notice names the bucket, why it was public, each action verified, the evidence and the restore recipe', async () => {
    const notices = account.notices();
    expect(notices).toHaveLength(1);
    const [notice] = notices;
    expect(notice.subject).toBe('registry-guard: closed non-compliant registry bucket electoral-roll');
    const evidenceUri = `s3://${EVIDENCE_BUCKET}/${EVIDENCE_KEY}`;
    // Pinned to the version S3 gave the evidence object and to the SHA-256 of the bytes it holds.
    const [evidenceWrite] = account.s3Mock.commandCalls(PutObjectCommand, { Key: EVIDENCE_KEY });
    const { VersionId: version } = (await evidenceWrite.returnValue) as { VersionId: string };
    expect(version).toBeDefined();
    const sha256 = createHash('sha256')
      .update(account.objects.get(`${EVIDENCE_BUCKET}/${EVIDENCE_KEY}`) ?? '')
      .digest('hex');
    for (const line of [
      `Bucket: ${ROLL}`,
      `Account: ${ACCOUNT}`,
      'Region: us-east-1',
      'Registry bucket: yes',
      'Mode: remediate',
      '- bucket policy statement 1 (Sid "PublicRead"): Principal "*" is everyone, and no condition limits it to fixed values',
      '- ACL grants READ to AllUsers',
      '- Turned on all four bucket-level Block Public Access settings: done, verified by reading it back',
      '- Removed public statement 1 (Sid "PublicRead") from the bucket policy; kept the other 2 statements unchanged: done, verified by reading it back',
      '- Removed the public ACL grants (READ to AllUsers); kept the other 2 grants unchanged: done, verified by reading it back',
      `Evidence: ${evidenceUri}`,
      `Evidence version: ${version}`,
      `Evidence SHA-256: ${sha256}`,
      `  npx registry-guard restore ${evidenceUri} --version-id ${version} --sha256 ${sha256}`,
      `  aws s3api get-object --bucket ${EVIDENCE_BUCKET} --key ${EVIDENCE_KEY} --version-id ${version} evidence.json`,
      `  echo "${sha256}  evidence.json" | sha256sum -c -   # stop here unless it says OK`,
      `  jq -r '.before.policy' evidence.json > policy.json`,
      `  aws s3api put-bucket-policy --bucket ${ROLL} --policy file://policy.json`,
      `  aws s3api put-bucket-acl --bucket ${ROLL} --access-control-policy file://acl.json`,
      'Runbook: docs/runbook.md',
    ]) {
      expect(notice.message.split('\n')).toContain(line);
    }
    expect(notice.message).not.toContain('LOOP');
  });

  test('logs one structured line for the bucket, with the bucket as a key and remediated: true', () => {
    const lines = account.logger.entries.filter((entry) => entry.attributes.bucket === ROLL);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      message: 'Bucket non-compliant',
      attributes: { compliance: 'NON_COMPLIANT', registry: true, remediated: true, accountId: ACCOUNT },
    });
  });

  test('a second run finds the bucket compliant and changes nothing', async () => {
    const writesBefore = account.operations().filter((name) => /^(Put|Delete)/.test(name)).length;
    await account.handler()(configChangeEvent(ROLL));
    expect(account.operations().filter((name) => /^(Put|Delete)/.test(name))).toHaveLength(writesBefore);
    expect(account.evaluations()[1]).toMatchObject({
      ComplianceType: 'COMPLIANT',
      Annotation: 'Registry bucket: no public grant, Block Public Access all on.',
    });
    expect(account.notices()).toHaveLength(1);
    const secondLine = account.logger.entries.filter((entry) => entry.attributes.bucket === ROLL)[1];
    expect(secondLine).toMatchObject({
      level: 'info',
      attributes: { compliance: 'COMPLIANT', remediated: false },
    });
  });
});

describe('ConfigurationItemChangeNotification: other buckets', () => {
  test('an ordinary bucket opened by its policy gets Block Public Access; its policy is left as it is', async () => {
    const account = new FakeAccount();
    const policy = policyOf(publicStatement('open-data'));
    account.addBucket('open-data', { policy });
    await account.handler()(configChangeEvent('open-data'));
    expect(account.buckets.get('open-data')).toMatchObject({ policy, blockPublicAccess: ALL_ON });
    expect(account.s3Mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
    expect(account.evaluations()[0].ComplianceType).toBe('NON_COMPLIANT');
    expect(account.notices()[0].message).toContain(
      '- Left the public bucket policy for a human: not done (only registry buckets are rewritten; Block Public Access now neutralises it)',
    );
  });

  test('an ordinary bucket whose public policy the account’s Block Public Access neutralises is COMPLIANT, with a note', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    const result = await account.handler()(configChangeEvent('open-data'));
    expect(account.evaluations()[0]).toMatchObject({
      ComplianceType: 'COMPLIANT',
      Annotation:
        'Not public; public policy neutralised by account-level Block Public Access (RestrictPublicBuckets).',
    });
    expect(result.buckets[0].reasons).toEqual([
      expect.stringMatching(
        /^bucket policy statement 1 \(Sid "PublicRead"\): .* \(neutralised by account-level RestrictPublicBuckets\)$/,
      ),
    ]);
    expect(result.buckets[0].reliesOnAccountBlockPublicAccess).toBe(false);
    expect(account.operations().filter((name) => /^(Put|Delete)/.test(name))).toEqual([]);
    expect(account.notices()).toEqual([]);
  });

  test('a registry bucket whose public grant Block Public Access neutralises is still NON_COMPLIANT and rewritten', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
      blockPublicAccess: ALL_ON,
    });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.evaluations()[0].Annotation).toMatch(
      /^Registry policy has a public statement \(neutralised\); remediated: evidence saved, public statements removed \(verified\)/,
    );
    expect(account.s3Mock.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(0);
    expect(JSON.parse(account.buckets.get(ROLL)?.policy ?? '').Statement).toEqual([auditorStatement(ROLL)]);
  });

  test('a registry bucket with one Block Public Access setting off and nothing public is NON_COMPLIANT', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      blockPublicAccess: { ...ALL_ON, IgnorePublicAcls: false },
    });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.evaluations()[0].Annotation).toMatch(
      /^Registry Block Public Access off \(IgnorePublicAcls\); remediated: evidence saved, Block Public Access on \(verified\)\.$/,
    );
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
  });

  test('deletes the policy when every statement in it is public', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement(ROLL)),
      blockPublicAccess: ALL_ON,
    });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.operations()).toContain('DeleteBucketPolicy');
    expect(account.buckets.get(ROLL)?.policy).toBeUndefined();
    expect(account.notices()[0].message).toContain(
      '- Deleted the bucket policy: every statement was public (public statement 1 (Sid "PublicRead")): done, verified by reading it back',
    );
  });

  test('removes AuthenticatedUsers grants too', async () => {
    const account = new FakeAccount();
    const authenticatedWrite = {
      Grantee: { Type: 'Group' as const, URI: AUTHENTICATED_USERS },
      Permission: 'WRITE' as const,
    };
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      grants: [OWNER_GRANT, authenticatedWrite],
      blockPublicAccess: ALL_ON,
    });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.buckets.get(ROLL)?.grants).toEqual([OWNER_GRANT]);
  });

  test('leaves the ACL alone when BucketOwnerEnforced disables ACLs', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      grants: [OWNER_GRANT, PUBLIC_READ_GRANT],
      blockPublicAccess: ALL_ON,
      objectOwnership: 'BucketOwnerEnforced',
    });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.s3Mock.commandCalls(PutBucketAclCommand)).toHaveLength(0);
    expect(account.notices()[0].message).toContain(
      '- Left the ACL as it is: not done (ACLs are disabled (BucketOwnerEnforced), so its grants have no effect)',
    );
  });

  test.each(['ResourceDeleted', 'ResourceDeletedNotRecorded', 'ResourceNotRecorded'])(
    'status %s is NOT_APPLICABLE without reading the bucket',
    async (status) => {
      const account = new FakeAccount();
      openedRegistry(account);
      await account.handler()(configChangeEvent(ROLL, { status }));
      expect(account.operationsOn(ROLL)).toEqual([]);
      // Only the guard's own bookkeeping: the listing of notices earlier invocations left pending.
      expect(account.operationsBesideGuardRecords()).toEqual([]);
      expect(account.evaluations()).toEqual([
        expect.objectContaining({
          ComplianceType: 'NOT_APPLICABLE',
          Annotation: `The configuration item status is ${status}.`,
          OrderingTimestamp: CAPTURE_TIME,
        }),
      ]);
    },
  );

  test('eventLeftScope is NOT_APPLICABLE without reading the bucket', async () => {
    const account = new FakeAccount();
    openedRegistry(account);
    await account.handler()(configChangeEvent(ROLL, { eventLeftScope: true }));
    expect(account.operationsOn(ROLL)).toEqual([]);
    expect(account.operationsBesideGuardRecords()).toEqual([]);
    expect(account.evaluations()[0]).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: 'The bucket left the rule’s scope.',
    });
  });

  test('asks STS for the account once per container when the event does not name it', async () => {
    const account = new FakeAccount();
    account.addBucket('quiet', { blockPublicAccess: ALL_ON });
    const event = configChangeEvent('quiet', { accountId: null });
    const invoking = JSON.parse(event.invokingEvent as string);
    delete invoking.configurationItem.awsAccountId;
    event.invokingEvent = JSON.stringify(invoking);
    const handler = account.handler();
    await handler(event);
    await handler(event);
    expect(account.stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(account.evaluations().map((evaluation) => evaluation.ComplianceType)).toEqual([
      'COMPLIANT',
      'COMPLIANT',
    ]);
  });
});

describe('a registry bucket open at bucket level while account-level Block Public Access is fully on', () => {
  function registryOpenBehindTheAccount(account: FakeAccount): void {
    account.accountBlockPublicAccess = ALL_ON;
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
    });
  }

  test('is still NON_COMPLIANT and closed at bucket level, and the annotation says it is not public now', async () => {
    const account = new FakeAccount();
    registryOpenBehindTheAccount(account);
    const result = await account.handler()(configChangeEvent(ROLL));

    const [evaluation] = account.evaluations();
    expect(evaluation.ComplianceType).toBe('NON_COMPLIANT');
    // The verdict, the nuance and what was done come first; only the reasons' detail is cut to 256.
    expect(
      evaluation.Annotation?.startsWith(
        'Registry policy has a public statement, registry Block Public Access off (all four); ' +
          'not public now: account-level Block Public Access is fully on; ' +
          'remediated: evidence saved, Block Public Access on (verified), public statements removed (verified);',
      ),
    ).toBe(true);
    expect(evaluation.Annotation?.length).toBeLessThanOrEqual(256);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
    expect(JSON.parse(account.buckets.get(ROLL)?.policy ?? '').Statement).toEqual([auditorStatement(ROLL)]);
    expect(result.buckets[0].reasons).toEqual([
      expect.stringMatching(/\(neutralised by account-level RestrictPublicBuckets\)$/),
    ]);
    const [document] = account.evidence().values();
    expect(document).toMatchObject({ before: { blockPublicAccess: null, accountBlockPublicAccess: ALL_ON } });
  });

  test('the notice says plainly that it is not reachable now, and why it was closed anyway', async () => {
    const account = new FakeAccount();
    registryOpenBehindTheAccount(account);
    await account.handler()(configChangeEvent(ROLL));
    const [notice] = account.notices();
    expect(notice.subject).toBe(`registry-guard: closed non-compliant registry bucket ${ROLL}`);
    const lines = notice.message.split('\n');
    const why = lines.indexOf('Why it is non-compliant:');
    expect(lines.slice(why, why + 7)).toEqual([
      'Why it is non-compliant:',
      '- registry policy has a public statement',
      '- registry Block Public Access off (all four)',
      '',
      'Not reachable by the public now: account-level Block Public Access is fully on.',
      'Closed at bucket level anyway, so the registry does not depend on the account setting (see What was done).',
      '',
    ]);
  });

  test('report mode: the annotation and the notice say it stays open at bucket level', async () => {
    const account = new FakeAccount();
    registryOpenBehindTheAccount(account);
    await account.handler({ GUARD_MODE: 'report' })(configChangeEvent(ROLL));
    expect(account.evaluations()[0].Annotation).toMatch(
      /^Registry policy has a public statement, registry Block Public Access off \(all four\); not public now: account-level Block Public Access is fully on; report mode: nothing changed; bucket policy statement 1/,
    );
    expect(account.notices()[0].message).toContain(
      'Report mode: not closed at bucket level, so the registry depends on the account setting until someone closes it.',
    );
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toBeUndefined();
  });

  test('a registry bucket with its own Block Public Access all on does not depend on the account: no such note', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
      blockPublicAccess: ALL_ON,
    });
    const result = await account.handler()(configChangeEvent(ROLL));
    expect(result.buckets[0].reliesOnAccountBlockPublicAccess).toBe(false);
    expect(account.evaluations()[0].Annotation).toMatch(
      /^Registry policy has a public statement \(neutralised\); remediated: /,
    );
    expect(account.notices()[0].message).not.toContain('Not reachable by the public now');
  });

  test('an account setting that is only partly on is no such guarantee: no such note', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = { ...ALL_ON, BlockPublicAcls: false };
    account.addBucket(ROLL, { tags: [REGISTRY_TAG], policy: policyOf(publicStatement(ROLL)) });
    const result = await account.handler()(configChangeEvent(ROLL));
    expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
    expect(result.buckets[0].reliesOnAccountBlockPublicAccess).toBe(false);
    expect(account.evaluations()[0].Annotation).not.toContain('not public now');
  });
});

describe('OversizedConfigurationItemChangeNotification', () => {
  test('reads the bucket from S3 and orders the evaluation by the summary’s capture time', async () => {
    const account = new FakeAccount();
    openedRegistry(account);
    await account.handler()(oversizedEvent(ROLL));
    expect(account.evaluations()).toEqual([
      expect.objectContaining({
        ComplianceResourceId: ROLL,
        ComplianceType: 'NON_COMPLIANT',
        OrderingTimestamp: new Date('2026-11-25T02:41:05.870Z'),
      }),
    ]);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
  });
});
