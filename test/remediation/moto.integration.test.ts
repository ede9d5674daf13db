/**
 * The handler against moto's server on loopback: real SDK v3 clients over real HTTP for S3, S3 Control,
 * SNS and STS, built by the production `defaultDeps()`. Only Config's PutEvaluations is mocked (moto
 * accepts it only in test mode). Skipped, loudly, when moto is not installed.
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import * as http from 'http';
import * as net from 'net';
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { defaultDeps } from '../../lib/remediation/clients';
import { InvalidEventError } from '../../lib/remediation/errors';
import { createHandler, GuardDependencies, GuardHandler } from '../../lib/remediation/handler';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudFormationRequest,
  cloudTrailAccountEvent,
  cloudTrailBucketEvent,
  configChangeEvent,
  isLoopbackOrCloudFormation,
  policyOf,
  publicStatement,
  RecordingLogger,
  refusedUrl,
  REGISTRY_TAG,
  ResponseServer,
  scheduledEvent,
} from './support';
import { liveBlockPublicAccess, livePolicy } from '../support/live-bucket';
import { motoAvailable, MotoServer, startMotoServer, useLoopbackHost } from '../support/moto-server';

const MOTO_AVAILABLE = motoAvailable();
const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('moto is not installed: skipping the moto integration tests');

const EVIDENCE_BUCKET = 'registry-guard-evidence';
/** The message S3 Control gives when a service control policy denies the call. */
const SCP_DENIAL =
  'User: arn:aws:sts::123456789012:assumed-role/registry-guard/guard is not authorized to perform this ' +
  'operation with an explicit deny in a service control policy';
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
      // The loopback ResponseServer stands in for CloudFormation's pre-signed S3 URL.
      isTrustedResponseUrl: isLoopbackOrCloudFormation,
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

    expect(await liveBlockPublicAccess(s3, roll)).toEqual(ALL_ON);
    expect(JSON.parse((await livePolicy(s3, roll)) ?? '').Statement).toEqual([auditorStatement(roll)]);
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
    expect(await liveBlockPublicAccess(s3, 'open-data')).toEqual(ALL_ON);
    expect(JSON.parse((await livePolicy(s3, 'open-data')) ?? '')).toEqual(JSON.parse(policy));
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
    expect(await liveBlockPublicAccess(s3, 'census')).toEqual(ALL_ON);
    expect(await liveBlockPublicAccess(s3, 'quiet-1')).toBeUndefined();
  });

  test('a CloudTrail PutBucketPolicy event closes the bucket in one invocation and names the caller', async () => {
    const roll = 'electoral-roll';
    await createBucket(roll, { tags: [REGISTRY_TAG], policy: policyOf(publicStatement(roll)) });
    await guard()(cloudTrailBucketEvent('PutBucketPolicy', roll));
    expect(await livePolicy(s3, roll)).toBeUndefined();
    expect(await liveBlockPublicAccess(s3, roll)).toEqual(ALL_ON);
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
    expect((await receivedNotices())[0].Message).toContain(
      'Changed by: arn:aws:sts::123456789012:assumed-role/DataEngineer/alice',
    );
  });

  test('an exempt ordinary bucket is left untouched; the change that finds it public tells on-call', async () => {
    const policy = policyOf(publicStatement('open-data'));
    // Within the 90 days an exemption may run, counted from today: the handler reads the real clock.
    const expires = new Date(Date.now() + 30 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    await createBucket('open-data', {
      policy,
      tags: [
        { Key: 'registry-guard:public-exemption', Value: 'Open data portal, ticket SEC-1234' },
        { Key: 'registry-guard:exemption-expires', Value: expires },
      ],
    });
    await guard()(configChangeEvent('open-data'));
    expect(evaluations()[0]).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: `Exempt until ${expires}: Open data portal, ticket SEC-1234.`,
    });
    expect(await liveBlockPublicAccess(s3, 'open-data')).toBeUndefined();
    expect(await livePolicy(s3, 'open-data')).toBe(policy);
    const notices = await receivedNotices();
    expect(notices.map((notice) => notice.Subject)).toEqual([
      `registry-guard: exempt bucket open-data is public until ${expires}`,
    ]);
    expect(notices[0].Message).toMatch(/^EXEMPTION IN USE: /);
  });

  test('a registry bucket open at bucket level behind a fully-on account setting: NON_COMPLIANT with the nuance, closed at bucket level, policy backed up', async () => {
    await deps.s3Control.send(
      new PutAccountPublicAccessBlockCommand({ AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON }),
    );
    const roll = 'electoral-roll';
    const originalPolicy = policyOf(publicStatement(roll), auditorStatement(roll));
    await createBucket(roll, { tags: [REGISTRY_TAG], policy: originalPolicy });

    await guard()(configChangeEvent(roll));

    const [evaluation] = evaluations();
    expect(evaluation.ComplianceType).toBe('NON_COMPLIANT');
    expect(evaluation.Annotation).toMatch(
      /^Registry policy has a public statement, registry Block Public Access off \(all four\); not public now: account-level Block Public Access is fully on; remediated: evidence saved, Block Public Access on \(verified\), public statements removed \(verified\)/,
    );
    expect(await liveBlockPublicAccess(s3, roll)).toEqual(ALL_ON);
    expect(JSON.parse((await livePolicy(s3, roll)) ?? '').Statement).toEqual([auditorStatement(roll)]);
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `${roll}/` }));
    const evidenceObject = await s3.send(
      new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: listing.Contents?.[0].Key }),
    );
    expect(JSON.parse((await evidenceObject.Body?.transformToString()) ?? '{}')).toMatchObject({
      before: { policy: originalPolicy, blockPublicAccess: null, accountBlockPublicAccess: ALL_ON },
    });
    expect((await receivedNotices())[0].Message).toContain(
      'Not reachable by the public now: account-level Block Public Access is fully on.',
    );
  });

  test('a DeleteAccountPublicAccessBlock event turns the account’s four settings back on (S3 Control)', async () => {
    await guard()(cloudTrailAccountEvent('DeleteAccountPublicAccessBlock'));
    const account = await deps.s3Control.send(new GetAccountPublicAccessBlockCommand({ AccountId: ACCOUNT }));
    expect(account.PublicAccessBlockConfiguration).toEqual(ALL_ON);
    expect((await receivedNotices())[0].Subject).toBe(
      `registry-guard: restored account ${ACCOUNT} Block Public Access`,
    );
  });
  describe('the deploy-time custom resource (CloudFormation request, answered at a local URL)', () => {
    let responses: ResponseServer;
    let s3ControlCommands: string[];

    beforeEach(async () => {
      responses = await new ResponseServer().start();
      s3ControlCommands = recordCommands(deps.s3Control);
    });

    afterEach(async () => {
      await responses.close();
    });

    async function liveAccountBlockPublicAccess(): Promise<unknown> {
      try {
        return (await deps.s3Control.send(new GetAccountPublicAccessBlockCommand({ AccountId: ACCOUNT })))
          .PublicAccessBlockConfiguration;
      } catch {
        return undefined;
      }
    }

    async function accountEvidence(): Promise<Record<string, unknown>[]> {
      const listing = await s3.send(
        new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `_account/${ACCOUNT}/` }),
      );
      return Promise.all(
        (listing.Contents ?? []).map(async (object) => {
          const body = await s3.send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: object.Key }));
          return JSON.parse((await body.Body?.transformToString()) ?? '{}') as Record<string, unknown>;
        }),
      );
    }

    async function turnAccountBlockPublicAccessOn(): Promise<void> {
      await deps.s3Control.send(
        new PutAccountPublicAccessBlockCommand({
          AccountId: ACCOUNT,
          PublicAccessBlockConfiguration: ALL_ON,
        }),
      );
      s3ControlCommands.length = 0;
    }

    test('Create on an account with no Block Public Access: all four on, evidence of the previous setting, SUCCESS', async () => {
      expect(await liveAccountBlockPublicAccess()).toBeUndefined();
      await guard()(cloudFormationRequest('Create', responses.responseUrl()));

      expect(await liveAccountBlockPublicAccess()).toEqual(ALL_ON);
      const evidence = await accountEvidence();
      expect(evidence).toEqual([
        expect.objectContaining({
          account: ACCOUNT,
          event: 'CloudFormation Create of Custom::RegistryGuardAccountBlockPublicAccess',
          before: { accountBlockPublicAccess: null },
        }),
      ]);
      const [answer] = responses.bodies();
      expect(answer).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: `registry-guard-account-block-public-access-${ACCOUNT}`,
        Data: {
          SettingsTurnedOn: 'BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets',
          EvidenceUri: expect.stringMatching(new RegExp(`^s3://${EVIDENCE_BUCKET}/_account/${ACCOUNT}/`)),
        },
      });
      expect((await receivedNotices())[0].Message).toContain(
        'Trigger: CloudFormation Create of Custom::RegistryGuardAccountBlockPublicAccess',
      );
    });

    test('Create when already all on: one read, no Put, SUCCESS with SettingsTurnedOn none', async () => {
      await turnAccountBlockPublicAccessOn();
      await guard()(cloudFormationRequest('Create', responses.responseUrl()));
      expect(s3ControlCommands).toEqual(['GetPublicAccessBlockCommand']);
      expect(responses.bodies()).toEqual([
        expect.objectContaining({ Status: 'SUCCESS', Data: { SettingsTurnedOn: 'none' } }),
      ]);
      expect(await accountEvidence()).toEqual([]);
    });

    test('Update behaves like Create, with the same PhysicalResourceId', async () => {
      await guard()(cloudFormationRequest('Create', responses.responseUrl('create')));
      await deps.s3Control.send(
        new PutAccountPublicAccessBlockCommand({
          AccountId: ACCOUNT,
          PublicAccessBlockConfiguration: { ...ALL_ON, IgnorePublicAcls: false },
        }),
      );
      await guard()(cloudFormationRequest('Update', responses.responseUrl('update')));
      const [create, update] = responses.bodies();
      expect(update).toMatchObject({ Status: 'SUCCESS', Data: { SettingsTurnedOn: 'IgnorePublicAcls' } });
      expect(update.PhysicalResourceId).toBe(create.PhysicalResourceId);
      expect(await liveAccountBlockPublicAccess()).toEqual(ALL_ON);
    });

    test('Delete: SUCCESS, no S3 Control call, the setting stays on', async () => {
      await turnAccountBlockPublicAccessOn();
      await guard()(cloudFormationRequest('Delete', responses.responseUrl()));
      expect(s3ControlCommands).toEqual([]);
      expect(responses.bodies()).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
      expect(await liveAccountBlockPublicAccess()).toEqual(ALL_ON);
    });

    test('report mode: FAILED, and the setting is left off', async () => {
      await guard({ GUARD_MODE: 'report' })(cloudFormationRequest('Create', responses.responseUrl()));
      expect(responses.bodies()[0]).toMatchObject({ Status: 'FAILED' });
      expect(responses.bodies()[0].Reason).toContain('report mode and changes nothing');
      expect(await liveAccountBlockPublicAccess()).toBeUndefined();
    });

    test.each([
      {
        denied: 'PutPublicAccessBlockCommand',
        reason: `turning on account-level Block Public Access failed: AccessDenied: ${SCP_DENIAL}`,
        calls: ['GetPublicAccessBlockCommand', 'PutPublicAccessBlockCommand'],
      },
      {
        denied: 'GetPublicAccessBlockCommand',
        reason: `could not read account-level Block Public Access (AccessDenied: ${SCP_DENIAL}), so nothing was changed`,
        calls: ['GetPublicAccessBlockCommand'],
      },
    ])(
      '$denied denied (AccessDenied, as under an SCP): FAILED with the reason',
      async ({ denied, reason, calls }) => {
        const denial = await denyOperation(deps.s3Control, denied);
        try {
          await guard()(cloudFormationRequest('Create', responses.responseUrl()));
        } finally {
          await denial.close();
        }
        expect(responses.bodies()[0]).toMatchObject({
          Status: 'FAILED',
          Reason: `Account ${ACCOUNT}: ${reason}`,
        });
        expect(s3ControlCommands).toEqual(calls);
        expect(await liveAccountBlockPublicAccess()).toBeUndefined();
      },
    );

    test('another ResourceType: answered FAILED; without a ResponseURL, InvalidEventError', async () => {
      await guard()(
        cloudFormationRequest('Create', responses.responseUrl(), { ResourceType: 'Custom::Other' }),
      );
      expect(responses.bodies()[0]).toMatchObject({
        Status: 'FAILED',
        Reason:
          'registry-guard rejected the request: ResourceType "Custom::Other" is not Custom::RegistryGuardAccountBlockPublicAccess',
      });
      await expect(
        guard()(
          cloudFormationRequest('Create', responses.responseUrl(), {
            ResourceType: 'Custom::Other',
            ResponseURL: undefined,
          }),
        ),
      ).rejects.toBeInstanceOf(InvalidEventError);
      expect(responses.received).toHaveLength(1);
      expect(s3ControlCommands).toEqual([]);
    });

    test('the answer cannot be delivered (HTTP 500, or refused): the handler throws', async () => {
      responses.status = 500;
      await expect(guard()(cloudFormationRequest('Create', responses.responseUrl()))).rejects.toThrow(
        /Answering CloudFormation SUCCESS failed: .*answered HTTP 500/,
      );
      // The setting was turned on before the answer failed; a retry finds it on and answers SUCCESS.
      expect(await liveAccountBlockPublicAccess()).toEqual(ALL_ON);
      await expect(guard()(cloudFormationRequest('Create', await refusedUrl()))).rejects.toThrow(
        /Answering CloudFormation SUCCESS failed: .*refused failed/,
      );
    });
  });
});

/** The names of the commands a real client sends, in order, as they leave it. */
function recordCommands(client: S3ControlClient): string[] {
  const names: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  return names;
}

/**
 * Sends one S3 Control operation to a loopback server that answers it as S3 Control answers a call an SCP
 * denies (HTTP 403, its XML error document), so the real client parses a real denial; moto, which does not
 * enforce IAM here, serves every other call. Test only.
 */
async function denyOperation(
  client: S3ControlClient,
  commandName: string,
): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    response.statusCode = 403;
    response.setHeader('content-type', 'application/xml');
    response.end(
      '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>AccessDenied</Code>' +
        `<Message>${SCP_DENIAL}</Message></Error><RequestId>9T3QXAMPLE</RequestId>` +
        '<HostId>EXAMPLEhostid=</HostId></ErrorResponse>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const name = `deny${commandName}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) {
        const request = args.request as { hostname?: string; port?: number };
        request.hostname = '127.0.0.1';
        request.port = port;
      }
      return next(args);
    },
    { step: 'finalizeRequest', name },
  );
  return {
    close: async () => {
      client.middlewareStack.remove(name);
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
