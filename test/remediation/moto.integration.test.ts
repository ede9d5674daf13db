/**
 * The handler against moto's server on loopback: real SDK v3 clients over real HTTP for S3, S3 Control,
 * SNS and STS, built by the production `defaultDeps()`. Only Config's PutEvaluations is mocked (moto
 * accepts it only in test mode). Skipped, loudly, when moto is not installed.
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { createHandler, defaultDeps, GuardDependencies, GuardHandler } from '../../lib/remediation';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudTrailAccountEvent,
  cloudTrailBucketEvent,
  configChangeEvent,
  policyOf,
  publicStatement,
  RecordingLogger,
  REGISTRY_TAG,
  scheduledEvent,
} from './support';
import { motoAvailable, MotoServer, startMotoServer, useLoopbackHost } from '../support/moto-server';

const MOTO_AVAILABLE = motoAvailable();
const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('moto is not installed: skipping the moto integration tests');

const EVIDENCE_BUCKET = 'registry-guard-evidence';
const ENV_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3_CONTROL',
];

describeWithMoto('against moto on loopback', () => {
  let moto: MotoServer;
  const savedEnv: Record<string, string | undefined> = {};
  let s3: S3Client;
  let sqs: SQSClient;
  let deps: GuardDependencies;
  let config: ConfigServiceClient;
  let configMock: AwsClientStub<ConfigServiceClient>;
  let topicArn: string;
  let queueUrl: string;

  beforeAll(async () => {
    moto = await startMotoServer();
    for (const key of ENV_KEYS) savedEnv[key] = process.env[key];
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: moto.endpoint,
      // S3 Control puts the account id in front of the host: `123456789012.localhost` is a valid URL
      // (`123456789012.127.0.0.1` is not), and useLoopbackHost sends it to 127.0.0.1.
      AWS_ENDPOINT_URL_S3_CONTROL: `http://localhost:${moto.port}`,
    });
    s3 = new S3Client({});
    sqs = new SQSClient({});
  });

  afterAll(async () => {
    await moto?.stop();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
  });

  beforeEach(async () => {
    await moto.reset();
    deps = defaultDeps();
    // Test only: the account-id host prefix S3 Control adds cannot resolve on loopback.
    useLoopbackHost(deps.s3Control);
    config = new ConfigServiceClient({});
    configMock = mockClient(config);
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
    topicArn =
      (await deps.sns.send(new CreateTopicCommand({ Name: 'registry-guard-on-call' }))).TopicArn ?? '';
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'on-call-inbox' }))).QueueUrl ?? '';
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    await deps.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  });

  function guard(env: Record<string, string> = {}): GuardHandler {
    return createHandler({
      ...deps,
      config,
      logger: new RecordingLogger(),
      env: { AWS_REGION: 'us-east-1', EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: topicArn, ...env },
    });
  }

  async function createBucket(
    bucket: string,
    options: { tags?: Tag[]; policy?: string; publicAcl?: boolean; blockPublicAccessOff?: boolean } = {},
  ): Promise<void> {
    // ACLs need an ObjectOwnership that permits them.
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'BucketOwnerPreferred' }));
    if (options.tags !== undefined) {
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: options.tags } }));
    }
    if (options.blockPublicAccessOff === true) {
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: false,
            IgnorePublicAcls: false,
            BlockPublicPolicy: false,
            RestrictPublicBuckets: false,
          },
        }),
      );
    }
    if (options.policy !== undefined)
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: options.policy }));
    if (options.publicAcl === true)
      await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
  }

  async function liveBlockPublicAccess(bucket: string): Promise<unknown> {
    try {
      return (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))
        .PublicAccessBlockConfiguration;
    } catch {
      return undefined;
    }
  }

  async function livePolicy(bucket: string): Promise<string | undefined> {
    try {
      return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
    } catch {
      return undefined;
    }
  }

  async function receivedNotices(): Promise<{ Subject: string; Message: string }[]> {
    const output = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    return (output.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}'));
  }

  function evaluations(): { ComplianceResourceId?: string; ComplianceType?: string; Annotation?: string }[] {
    return configMock
      .commandCalls(PutEvaluationsCommand)
      .flatMap((call) => call.args[0].input.Evaluations ?? []);
  }

  test('closes an opened registry bucket: Block Public Access on, only the private statement kept, no public grant', async () => {
    const roll = 'electoral-roll';
    const originalPolicy = policyOf(publicStatement(roll), auditorStatement(roll));
    await createBucket(roll, {
      tags: [REGISTRY_TAG],
      policy: originalPolicy,
      publicAcl: true,
      blockPublicAccessOff: true,
    });

    await guard()(configChangeEvent(roll));

    expect(await liveBlockPublicAccess(roll)).toEqual(ALL_ON);
    expect(JSON.parse((await livePolicy(roll)) ?? '').Statement).toEqual([auditorStatement(roll)]);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: roll }));
    expect(acl.Grants?.some((grant) => grant.Grantee?.URI?.endsWith('/AllUsers'))).toBe(false);
    expect(acl.Grants?.some((grant) => grant.Permission === 'FULL_CONTROL')).toBe(true);

    const listing = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `${roll}/` }));
    expect(listing.Contents).toHaveLength(1);
    const key = listing.Contents?.[0].Key ?? '';
    expect(key).toMatch(/^electoral-roll\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-[0-9a-f]{8}\.json$/);
    const evidenceObject = await s3.send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: key }));
    const evidence = JSON.parse((await evidenceObject.Body?.transformToString()) ?? '{}');
    expect(evidence).toMatchObject({
      bucket: roll,
      account: ACCOUNT,
      registryBucket: true,
      before: {
        policy: originalPolicy,
        blockPublicAccess: {
          BlockPublicAcls: false,
          IgnorePublicAcls: false,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
        ownershipControls: { objectOwnership: 'BucketOwnerPreferred' },
        tags: [REGISTRY_TAG],
      },
    });
    expect(
      evidence.before.acl.Grants.some((grant: { Grantee: { URI?: string } }) =>
        grant.Grantee.URI?.endsWith('/AllUsers'),
      ),
    ).toBe(true);

    expect(evaluations()).toEqual([
      expect.objectContaining({
        ComplianceResourceId: roll,
        ComplianceType: 'NON_COMPLIANT',
        ComplianceResourceType: 'AWS::S3::Bucket',
      }),
    ]);
    const notices = await receivedNotices();
    expect(notices).toHaveLength(1);
    expect(notices[0].Subject).toBe('registry-guard: closed non-compliant registry bucket electoral-roll');
    expect(notices[0].Message).toContain(`Evidence: s3://${EVIDENCE_BUCKET}/${key}`);
    expect(notices[0].Message).toContain(
      `aws s3api put-bucket-policy --bucket ${roll} --policy file://policy.json`,
    );
    expect(notices[0].Message).toContain('verified by reading it back');
  });

  test('an ordinary bucket opened by its policy gets Block Public Access; its policy is untouched', async () => {
    const policy = policyOf(publicStatement('open-data'));
    await createBucket('open-data', { policy });
    await guard()(configChangeEvent('open-data'));
    expect(await liveBlockPublicAccess('open-data')).toEqual(ALL_ON);
    expect(JSON.parse((await livePolicy('open-data')) ?? '')).toEqual(JSON.parse(policy));
    expect((await receivedNotices())[0].Subject).toBe(
      'registry-guard: closed non-compliant bucket open-data',
    );
  });

  test('a scheduled sweep evaluates every bucket and closes only the open ones', async () => {
    await createBucket('quiet-1');
    await createBucket('quiet-2');
    await createBucket('census', { tags: [REGISTRY_TAG], publicAcl: true });
    await createBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    const result = await guard()(scheduledEvent());
    const verdicts = Object.fromEntries(
      evaluations().map((evaluation) => [evaluation.ComplianceResourceId, evaluation.ComplianceType]),
    );
    expect(verdicts).toEqual({
      census: 'NON_COMPLIANT',
      'open-data': 'NON_COMPLIANT',
      'quiet-1': 'COMPLIANT',
      'quiet-2': 'COMPLIANT',
      [EVIDENCE_BUCKET]: 'COMPLIANT',
    });
    expect(result.noticesSent).toBe(2);
    expect(await liveBlockPublicAccess('census')).toEqual(ALL_ON);
    expect(await liveBlockPublicAccess('quiet-1')).toBeUndefined();
  });

  test('a CloudTrail PutBucketPolicy event closes the bucket in one invocation and names the caller', async () => {
    const roll = 'electoral-roll';
    await createBucket(roll, { tags: [REGISTRY_TAG], policy: policyOf(publicStatement(roll)) });
    await guard()(cloudTrailBucketEvent('PutBucketPolicy', roll));
    expect(await livePolicy(roll)).toBeUndefined();
    expect(await liveBlockPublicAccess(roll)).toEqual(ALL_ON);
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
    expect((await receivedNotices())[0].Message).toContain(
      'Changed by: arn:aws:sts::123456789012:assumed-role/DataEngineer/alice',
    );
  });

  test('an exempt ordinary bucket is left untouched', async () => {
    const policy = policyOf(publicStatement('open-data'));
    await createBucket('open-data', {
      policy,
      tags: [
        { Key: 'registry-guard:public-exemption', Value: 'Open data portal, ticket SEC-1234' },
        { Key: 'registry-guard:exemption-expires', Value: '2099-12-31' },
      ],
    });
    await guard()(configChangeEvent('open-data'));
    expect(evaluations()[0]).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: 'Exempt until 2099-12-31: Open data portal, ticket SEC-1234.',
    });
    expect(await liveBlockPublicAccess('open-data')).toBeUndefined();
    expect(await livePolicy('open-data')).toBe(policy);
    expect(await receivedNotices()).toEqual([]);
  });

  test('a DeleteAccountPublicAccessBlock event turns the account’s four settings back on (S3 Control)', async () => {
    await guard()(cloudTrailAccountEvent('DeleteAccountPublicAccessBlock'));
    const account = await deps.s3Control.send(new GetAccountPublicAccessBlockCommand({ AccountId: ACCOUNT }));
    expect(account.PublicAccessBlockConfiguration).toEqual(ALL_ON);
    expect((await receivedNotices())[0].Subject).toBe(
      `registry-guard: restored account ${ACCOUNT} Block Public Access`,
    );
  });
});
