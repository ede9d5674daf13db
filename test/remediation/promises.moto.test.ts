/**
 * The guard's three promises (a public bucket is closed, on-call is told, nothing is lost) under faults and
 * abuse: the production clients of `defaultDeps()` over real HTTP, through a fault-injecting proxy, to moto.
 * Only Config's PutEvaluations is mocked (moto accepts it only in test mode). Each test is one defect of
 * issue 13, reproduced.
 */
import { createHash } from 'crypto';
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { defaultDeps } from '../../lib/remediation/clients';
import { DeliveryError, InvalidEventError, StillPublicError } from '../../lib/remediation/errors';
import { createHandler, GuardDependencies, GuardHandler } from '../../lib/remediation/handler';
import { BucketOutcome } from '../../lib/remediation/report/outcome';
import { FaultProxy, queryAction, queryErrorBody, s3Call, s3ErrorBody } from '../support/fault-proxy';
import { liveBlockPublicAccess, livePolicy } from '../support/live-bucket';
import {
  motoAvailable,
  MotoServer,
  pointAwsAt,
  startMotoServer,
  useLoopbackHost,
} from '../support/moto-server';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudFormationRequest,
  cloudTrailBucketEvent,
  configChangeEvent,
  LOG_DELIVERY,
  policyOf,
  publicStatement,
  RecordingLogger,
  REGISTRY_TAG,
  ResponseServer,
  scheduledEvent,
  ALL_OFF,
} from './support';

const MOTO_AVAILABLE = motoAvailable();
const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('moto is not installed: skipping the fault-injection tests');

const EVIDENCE_BUCKET = 'registry-guard-evidence';
const ACCESS_DENIED = {
  status: 403,
  body: s3ErrorBody('AccessDenied', 'explicit deny in a service control policy'),
};

/** A date `days` from now, as an exemption expiry. */
function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

describeWithMoto('the guard keeps its promises under faults and abuse (moto, through a fault proxy)', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let restoreEnvironment: () => void = () => undefined;
  /** Talks to moto directly: the owner, the attacker and the test's own reads. */
  let s3: S3Client;
  let sqs: SQSClient;
  let deps: GuardDependencies;
  let config: ConfigServiceClient;
  let configMock: AwsClientStub<ConfigServiceClient>;
  let topicArn: string;
  let queueUrl: string;
  let logger: RecordingLogger;

  beforeAll(async () => {
    moto = await startMotoServer();
    proxy = await new FaultProxy(moto.port).start();
    // The guard's clients go through the proxy; the test's own clients go straight to moto.
    restoreEnvironment = pointAwsAt(proxy.port);
    s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
    sqs = new SQSClient({ endpoint: moto.endpoint });
  });

  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
    restoreEnvironment();
  });

  beforeEach(async () => {
    await moto.reset();
    proxy.clear();
    deps = defaultDeps();
    useLoopbackHost(deps.s3Control);
    config = new ConfigServiceClient({});
    configMock = mockClient(config);
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    logger = new RecordingLogger();
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: EVIDENCE_BUCKET,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    topicArn =
      (await deps.sns.send(new CreateTopicCommand({ Name: 'registry-guard-on-call' }))).TopicArn ?? '';
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'on-call-inbox' }))).QueueUrl ?? '';
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    await deps.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  });

  function guard(env: Record<string, string> = {}, options: Partial<GuardDependencies> = {}): GuardHandler {
    return createHandler({
      ...deps,
      config,
      logger,
      env: { AWS_REGION: 'us-east-1', EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: topicArn, ...env },
      ...options,
    });
  }

  async function createBucket(
    bucket: string,
    options: { tags?: Tag[]; policy?: string; publicAcl?: boolean; blockPublicAccess?: typeof ALL_ON } = {},
  ): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'BucketOwnerPreferred' }));
    if (options.tags !== undefined) {
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: options.tags } }));
    }
    if (options.blockPublicAccess !== undefined) {
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: options.blockPublicAccess,
        }),
      );
    }
    if (options.policy !== undefined) {
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: options.policy }));
    }
    if (options.publicAcl === true)
      await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
  }

  /** Every notice delivered so far, each received once. */
  async function drainNotices(): Promise<{ Subject: string; Message: string }[]> {
    const notices: { Subject: string; Message: string }[] = [];
    for (;;) {
      const output = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const messages = output.Messages ?? [];
      if (messages.length === 0) return notices;
      for (const message of messages) {
        notices.push(JSON.parse(message.Body ?? '{}'));
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  }

  /** The bucket's evidence objects (not its replaced-state records). */
  async function evidenceKeys(bucket: string): Promise<string[]> {
    const listing = await s3.send(
      new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `${bucket}/`, Delimiter: '/' }),
    );
    return (listing.Contents ?? []).map((object) => object.Key ?? '');
  }

  async function readObject(key: string, versionId?: string): Promise<string> {
    const output = await s3.send(
      new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: key, VersionId: versionId }),
    );
    return (await output.Body?.transformToString()) ?? '';
  }

  function remediatedLines(): number {
    return logger.entries.filter((entry) => entry.attributes.remediated === true).length;
  }

  function outcomeOf(outcomes: readonly BucketOutcome[], bucket: string): BucketOutcome {
    const outcome = outcomes.find((candidate) => candidate.bucket === bucket);
    if (outcome === undefined) throw new Error(`no outcome for ${bucket}`);
    return outcome;
  }

  describe('notices are delivered at least once', () => {
    test('SNS fails throughout a 40-bucket sweep with 5 drifted registries: the retry delivers exactly 5 notices, late', async () => {
      const drifted = ['roll-1', 'roll-2', 'roll-3', 'roll-4', 'roll-5'];
      for (const bucket of drifted) {
        await createBucket(bucket, {
          tags: [REGISTRY_TAG],
          blockPublicAccess: ALL_OFF,
          policy: policyOf(publicStatement(bucket), auditorStatement(bucket)),
        });
      }
      for (let index = 0; index < 35; index += 1) await createBucket(`quiet-${index}`);
      const snsDown = proxy.add({
        matches: queryAction('Publish'),
        answer: { status: 500, body: queryErrorBody('InternalError', 'SNS is having a bad day') },
      });

      await expect(guard()(scheduledEvent())).rejects.toBeInstanceOf(DeliveryError);
      for (const bucket of drifted) expect(await liveBlockPublicAccess(s3, bucket)).toEqual(ALL_ON);
      expect(await drainNotices()).toEqual([]);
      snsDown.times = 0;

      // Lambda's retry of the same event, a minute later: every bucket is closed now, so only the pending
      // notices can tell on-call what happened.
      const retry = await guard({}, { pendingNoticeMinAgeMs: 0 })(scheduledEvent());
      expect(retry.noticesSent).toBe(5);
      const notices = await drainNotices();
      expect(notices).toHaveLength(5);
      expect(notices.map((notice) => /Bucket: (\S+)/.exec(notice.Message)?.[1]).sort()).toEqual(drifted);
      for (const notice of notices) {
        expect(notice.Subject).toMatch(/^registry-guard: closed non-compliant registry bucket roll-\d$/);
        expect(notice.Message).toContain('Delivered late: the first attempt');
      }

      const again = await guard({}, { pendingNoticeMinAgeMs: 0 })(scheduledEvent());
      expect(again.noticesSent).toBe(0);
      expect(await drainNotices()).toEqual([]);
    });

    test('a publish that fails once, for one drift: the invocation fails, its retry delivers the one notice', async () => {
      await createBucket('roll', {
        tags: [REGISTRY_TAG],
        blockPublicAccess: ALL_OFF,
        policy: policyOf(publicStatement('roll')),
      });
      proxy.add({
        matches: queryAction('Publish'),
        times: 1,
        answer: { status: 400, body: queryErrorBody('KMSAccessDenied', 'the topic key said no') },
      });
      const event = cloudTrailBucketEvent('PutBucketPolicy', 'roll');
      await expect(guard()(event)).rejects.toThrow(/KMSAccessDenied.*the next invocation delivers it/);
      // Seconds later, another invocation leaves the fresh record alone: its writer may be publishing it.
      const concurrent = await guard()(cloudTrailBucketEvent('PutBucketAcl', 'roll'));
      expect(concurrent.noticesSent).toBe(0);
      const retry = await guard({}, { pendingNoticeMinAgeMs: 0 })(event);
      expect(retry.buckets[0].compliance).toBe('COMPLIANT');
      const notices = await drainNotices();
      expect(notices).toHaveLength(1);
      expect(notices[0].Message).toContain('Bucket: roll');
    });
  });

  describe('registry status cannot be removed by a tag', () => {
    test('a registry re-tagged as exempt, opened, is closed and paged; the sweep keeps holding it as a registry', async () => {
      await createBucket('voter-roll', { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON });
      // The deployment's own tagging event: the guard learns the registry.
      const learned = await guard()(cloudTrailBucketEvent('PutBucketTagging', 'voter-roll'));
      expect(learned.buckets[0].compliance).toBe('COMPLIANT');
      expect(await readObject('_registries/voter-roll.json')).toContain('"bucket":"voter-roll"');

      // The attacker: classification off, a 2099 exemption on, Block Public Access off, a public statement.
      await s3.send(
        new PutBucketTaggingCommand({
          Bucket: 'voter-roll',
          Tagging: {
            TagSet: [
              { Key: 'registry-guard:public-exemption', Value: 'open data' },
              { Key: 'registry-guard:exemption-expires', Value: '2099-12-31' },
            ],
          },
        }),
      );
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'voter-roll' }));
      await s3.send(
        new PutBucketPolicyCommand({ Bucket: 'voter-roll', Policy: policyOf(publicStatement('voter-roll')) }),
      );

      const result = await guard()(cloudTrailBucketEvent('PutBucketTagging', 'voter-roll'));
      const outcome = result.buckets[0];
      expect(outcome).toMatchObject({
        compliance: 'NON_COMPLIANT',
        isRegistry: true,
        registryTagRemoved: true,
      });
      expect(outcome.annotation).toMatch(
        /^Registry classification tag registry-guard:classification removed or changed/,
      );
      expect(await liveBlockPublicAccess(s3, 'voter-roll')).toEqual(ALL_ON);
      expect(await livePolicy(s3, 'voter-roll')).toBeUndefined();
      const [notice] = await drainNotices();
      expect(notice.Subject).toBe('registry-guard: closed non-compliant registry bucket voter-roll');
      expect(notice.Message.split('\n')[0]).toMatch(/^REGISTRY UNMARKED: /);

      const sweep = await guard()(scheduledEvent());
      expect(outcomeOf(sweep.buckets, 'voter-roll')).toMatchObject({
        compliance: 'NON_COMPLIANT',
        isRegistry: true,
      });

      // Released through the deployment: an ordinary bucket again, and its 2099 exemption is still no exemption.
      const released = await guard({ RELEASED_REGISTRY_BUCKETS: 'other, voter-roll' })(scheduledEvent());
      expect(outcomeOf(released.buckets, 'voter-roll')).toMatchObject({
        compliance: 'COMPLIANT',
        isRegistry: false,
      });
      expect(outcomeOf(released.buckets, 'voter-roll').notes).toContainEqual(
        expect.stringMatching(/exemption ignored: 2099-12-31 is more than 90 days away/),
      );
    });

    test('the classification in another case is still a registry: its public statement is removed', async () => {
      await createBucket('census', {
        tags: [{ Key: 'registry-guard:classification', Value: 'Sensitive-Registry' }],
        blockPublicAccess: ALL_OFF,
        policy: policyOf(publicStatement('census'), auditorStatement('census')),
      });
      const result = await guard()(cloudTrailBucketEvent('PutBucketPolicy', 'census'));
      expect(result.buckets[0].isRegistry).toBe(true);
      expect(JSON.parse((await livePolicy(s3, 'census')) ?? '{}').Statement).toEqual([
        auditorStatement('census'),
      ]);
    });

    test('adding an exemption to an ordinary bucket pages once; a sweep does not page for it again', async () => {
      const expires = daysFromNow(30);
      const policy = policyOf(publicStatement('open-data'));
      await createBucket('open-data', {
        tags: [
          { Key: 'registry-guard:public-exemption', Value: 'Open data portal, SEC-1234' },
          { Key: 'registry-guard:exemption-expires', Value: expires },
        ],
        blockPublicAccess: ALL_OFF,
        policy,
      });
      const tagged = await guard()(cloudTrailBucketEvent('PutBucketTagging', 'open-data'));
      expect(tagged.buckets[0].compliance).toBe('NOT_APPLICABLE');
      expect(await livePolicy(s3, 'open-data')).toBe(policy);
      const [notice, ...more] = await drainNotices();
      expect(more).toEqual([]);
      expect(notice.Subject).toBe(`registry-guard: exempt bucket open-data is public until ${expires}`);
      expect(notice.Message.split('\n')[0]).toMatch(/^EXEMPTION IN USE: .*Open data portal, SEC-1234/);

      await guard()(scheduledEvent());
      expect(await drainNotices()).toEqual([]);
    });
  });

  describe('no lost update', () => {
    test('the owner edits the policy and ACL while the guard works: both edits survive, and the evidence holds them', async () => {
      const roll = 'electoral-roll';
      const original = policyOf(publicStatement(roll), auditorStatement(roll));
      await createBucket(roll, {
        tags: [REGISTRY_TAG],
        blockPublicAccess: ALL_OFF,
        policy: original,
        publicAcl: true,
      });
      const ownersStatement = {
        Sid: 'OwnersNewStatement',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Loader` },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${roll}/*`,
      };
      const ownersPolicy = policyOf(publicStatement(roll), auditorStatement(roll), ownersStatement);
      // Between the guard's first read and its rewrite (here: as it turns on Block Public Access), the owner
      // adds a statement and turns on server access logging's LogDelivery grant.
      proxy.add({
        matches: s3Call('PUT', roll, 'publicAccessBlock'),
        times: 1,
        before: async () => {
          await s3.send(new PutBucketPolicyCommand({ Bucket: roll, Policy: ownersPolicy }));
          const acl = await s3.send(new GetBucketAclCommand({ Bucket: roll }));
          await s3.send(
            new PutBucketAclCommand({
              Bucket: roll,
              AccessControlPolicy: {
                Owner: acl.Owner,
                Grants: [
                  ...(acl.Grants ?? []),
                  { Grantee: { Type: 'Group', URI: LOG_DELIVERY }, Permission: 'WRITE' },
                ],
              },
            }),
          );
        },
      });

      const result = await guard()(configChangeEvent(roll));
      expect(JSON.parse((await livePolicy(s3, roll)) ?? '{}').Statement).toEqual([
        auditorStatement(roll),
        ownersStatement,
      ]);
      const grants = (await s3.send(new GetBucketAclCommand({ Bucket: roll }))).Grants ?? [];
      expect(
        grants.some((grant) => grant.Grantee?.URI === LOG_DELIVERY && grant.Permission === 'WRITE'),
      ).toBe(true);
      expect(grants.some((grant) => grant.Grantee?.URI?.endsWith('/AllUsers'))).toBe(false);

      const replaced = result.buckets[0].remediation?.replaced ?? [];
      expect(
        replaced.map((ref) =>
          ref.key
            .split('/')
            .pop()
            ?.replace(/-[0-9a-f]{8}\.json$/, ''),
        ),
      ).toEqual(['replaced-policy', 'replaced-acl']);
      const policyRecord = JSON.parse(await readObject(replaced[0].key, replaced[0].versionId));
      expect(policyRecord).toMatchObject({
        setting: 'policy',
        decidedFrom: original,
        replaced: ownersPolicy,
      });
      const aclRecord = JSON.parse(await readObject(replaced[1].key, replaced[1].versionId));
      expect(JSON.stringify(aclRecord.replaced)).toContain(LOG_DELIVERY);
      expect((await drainNotices())[0].Message).toContain('Changed while being closed');
    });
  });

  describe('nothing ends silently public', () => {
    test('Block Public Access denied on an ordinary bucket: its public statement is removed instead (backed up), loudly', async () => {
      const policy = policyOf(publicStatement('open-data'), auditorStatement('open-data'));
      await createBucket('open-data', { policy });
      proxy.add({ matches: s3Call('PUT', 'open-data', 'publicAccessBlock'), answer: ACCESS_DENIED });
      const result = await guard()(cloudTrailBucketEvent('PutBucketPolicy', 'open-data'));
      expect(result.buckets[0].remediation?.stillPublic).toBe(false);
      expect(JSON.parse((await livePolicy(s3, 'open-data')) ?? '{}').Statement).toEqual([
        auditorStatement('open-data'),
      ]);
      const [notice] = await drainNotices();
      expect(notice.Subject).toBe('registry-guard: FAILED to fully close bucket open-data');
      expect(notice.Message).toContain(
        'Turned on all four bucket-level Block Public Access settings: FAILED (AccessDenied',
      );
      expect(notice.Message).toContain('Removed public statement 1');
      const [key] = await evidenceKeys('open-data');
      expect(JSON.parse(await readObject(key)).before.policy).toBe(policy);
    });

    test('Block Public Access and the policy write both denied: NON_COMPLIANT, STILL PUBLIC first, and the invocation fails', async () => {
      await createBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
      proxy.add({ matches: s3Call('PUT', 'open-data', 'publicAccessBlock'), answer: ACCESS_DENIED });
      proxy.add({ matches: s3Call('DELETE', 'open-data', 'policy'), answer: ACCESS_DENIED });
      await expect(guard()(configChangeEvent('open-data'))).rejects.toBeInstanceOf(StillPublicError);
      expect(configMock.commandCalls(PutEvaluationsCommand)[0].args[0].input.Evaluations?.[0]).toMatchObject({
        ComplianceType: 'NON_COMPLIANT',
        Annotation: expect.stringMatching(/^STILL PUBLIC; public via bucket policy/),
      });
      const [notice] = await drainNotices();
      expect(notice.Subject).toMatch(/^STILL PUBLIC registry-guard: could not close bucket open-data/);
      expect(notice.Message.split('\n')[0]).toMatch(/^STILL PUBLIC: /);
      expect(logger.errors()).toContain('STILL PUBLIC: remediation could not close the bucket');
    });
  });

  describe('one incident, one page', () => {
    test('twenty simultaneous events for one drift: one evidence object, one notice, one storm count, no LOOP', async () => {
      const roll = 'electoral-roll';
      const open = policyOf(publicStatement(roll), auditorStatement(roll));
      await createBucket(roll, { tags: [REGISTRY_TAG], blockPublicAccess: ALL_OFF, policy: open });
      const names = ['PutBucketPolicy', 'PutBucketAcl', 'DeleteBucketPublicAccessBlock', 'PutBucketTagging'];
      const events = [
        configChangeEvent(roll),
        ...Array.from({ length: 19 }, (_, index) => cloudTrailBucketEvent(names[index % names.length], roll)),
      ];
      const results = await Promise.allSettled(events.map((event) => guard()(event)));
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);

      expect(await liveBlockPublicAccess(s3, roll)).toEqual(ALL_ON);
      expect(await evidenceKeys(roll)).toHaveLength(1);
      const notices = await drainNotices();
      expect(notices).toHaveLength(1);
      expect(notices[0].Message).not.toContain('LOOP');
      expect(remediatedLines()).toBe(1);
      // Each invocation held an "interrupted" notice before claiming: the owner's was replaced by the real
      // one and deleted once sent, the duplicates dropped theirs. None is left to page later.
      const pending = await s3.send(
        new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: '_pending-notices/' }),
      );
      expect(pending.Contents ?? []).toEqual([]);

      // Reopened in the same state after it was closed: a new incident, told as a reopening.
      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: roll, PublicAccessBlockConfiguration: ALL_OFF }),
      );
      await s3.send(new PutBucketPolicyCommand({ Bucket: roll, Policy: open }));
      await guard()(cloudTrailBucketEvent('PutBucketPolicy', roll));
      const [reopened, ...rest] = await drainNotices();
      expect(rest).toEqual([]);
      expect(reopened.Message).toContain('Reopened: the bucket was closed in this same state before');
      expect(reopened.Message).not.toContain('LOOP');

      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: roll, PublicAccessBlockConfiguration: ALL_OFF }),
      );
      await s3.send(new PutBucketPolicyCommand({ Bucket: roll, Policy: open }));
      await guard()(cloudTrailBucketEvent('PutBucketPolicy', roll));
      expect((await drainNotices())[0].Subject).toMatch(/^\[LOOP\] /);
      expect(await evidenceKeys(roll)).toHaveLength(3);
    });
  });

  describe('input is verified', () => {
    test('a CloudTrail event from another account naming our bucket is refused: nothing read, nothing changed, nobody paged', async () => {
      await createBucket('roll', {
        tags: [REGISTRY_TAG],
        blockPublicAccess: ALL_OFF,
        policy: policyOf(publicStatement('roll')),
      });
      const forged = { ...cloudTrailBucketEvent('PutBucketPolicy', 'roll'), account: '999988887777' };
      const result = await guard()(forged);
      expect(result.ignored).toMatch(/names account 999988887777, but the guard runs in 123456789012/);
      expect(proxy.seen.filter((request) => request.url.startsWith('/roll'))).toEqual([]);
      expect(await liveBlockPublicAccess(s3, 'roll')).toEqual(ALL_OFF);
      expect(await drainNotices()).toEqual([]);
    });

    test('a CloudTrail event from another Region is refused', async () => {
      await createBucket('roll', { tags: [REGISTRY_TAG], blockPublicAccess: ALL_OFF });
      const elsewhere = { ...cloudTrailBucketEvent('PutBucketPolicy', 'roll'), region: 'eu-west-1' };
      expect((await guard()(elsewhere)).ignored).toMatch(
        /names Region eu-west-1, but the guard runs in us-east-1/,
      );
      expect(await liveBlockPublicAccess(s3, 'roll')).toEqual(ALL_OFF);
    });

    test('a call that failed (errorCode) changes nothing and pages nobody', async () => {
      await createBucket('roll', { tags: [REGISTRY_TAG], blockPublicAccess: ALL_OFF });
      const failedCall = cloudTrailBucketEvent('PutBucketPolicy', 'roll');
      (failedCall.detail as Record<string, unknown>).errorCode = 'AccessDenied';
      const result = await guard()(failedCall);
      expect(result.ignored).toMatch(/the call failed \(AccessDenied\)/);
      expect(result.buckets).toEqual([]);
      expect(await drainNotices()).toEqual([]);
    });

    test('a custom-resource request whose ResponseURL is not an AWS S3 https URL is never answered', async () => {
      const server = await new ResponseServer().start();
      try {
        const request = cloudFormationRequest('Create', server.responseUrl());
        const production = createHandler({ ...deps, config, logger, env: { AWS_REGION: 'us-east-1' } });
        await expect(production(request)).rejects.toThrow(InvalidEventError);
        await expect(production(request)).rejects.toThrow(/not an https CloudFormation response URL/);
        expect(server.received).toEqual([]);
      } finally {
        await server.close();
      }
    });
  });

  describe('evidence is tamper-evident and restorable', () => {
    test('the evidence is pinned by version and SHA-256, and the restore recipe uses both', async () => {
      const roll = 'electoral-roll';
      await createBucket(roll, {
        tags: [REGISTRY_TAG],
        blockPublicAccess: ALL_OFF,
        policy: policyOf(publicStatement(roll)),
      });
      const result = await guard()(cloudTrailBucketEvent('PutBucketPolicy', roll));
      const evidence = result.buckets[0].remediation?.evidence;
      expect(evidence?.versionId).toEqual(expect.any(String));
      const stored = await readObject(evidence?.key ?? '', evidence?.versionId);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(evidence?.sha256);
      const [notice] = await drainNotices();
      expect(notice.Message).toContain(
        `aws s3api get-object --bucket ${EVIDENCE_BUCKET} --key ${evidence?.key} --version-id ${evidence?.versionId} evidence.json`,
      );
      expect(notice.Message).toContain(`echo "${evidence?.sha256}  evidence.json" | sha256sum -c -`);
      // The guard never overwrites evidence: a second write to the same key is refused by S3.
      expect(
        proxy.seen.some(
          (request) =>
            request.headers['if-none-match'] === '*' &&
            request.url.startsWith(`/${EVIDENCE_BUCKET}/${roll}/`),
        ),
      ).toBe(true);
    });

    test('no evidence could be written: Block Public Access is still turned on, and its previous value is in the notice and the log', async () => {
      await createBucket('open-data', {
        blockPublicAccess: { ...ALL_OFF, BlockPublicAcls: true },
        policy: policyOf(publicStatement('open-data')),
      });
      proxy.add({
        matches: (request) =>
          request.method === 'PUT' && request.url.startsWith(`/${EVIDENCE_BUCKET}/open-data/`),
        answer: ACCESS_DENIED,
      });
      const result = await guard()(configChangeEvent('open-data'));
      expect(await liveBlockPublicAccess(s3, 'open-data')).toEqual(ALL_ON);
      const previous = { ...ALL_OFF, BlockPublicAcls: true };
      expect(result.buckets[0].remediation?.previousBlockPublicAccess).toEqual(previous);
      const [notice] = await drainNotices();
      expect(notice.Message).toContain(
        `Previous bucket-level Block Public Access (recorded nowhere else): ${JSON.stringify(previous)}`,
      );
      const line = logger.entries.find(
        (entry) => entry.attributes.bucket === 'open-data' && entry.attributes.compliance !== undefined,
      );
      expect(line?.attributes.previousBlockPublicAccess).toEqual(previous);
    });
  });
});
