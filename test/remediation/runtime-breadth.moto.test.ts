/**
 * The guard's wider reach, end to end: external grants on registry buckets, and access point and
 * Multi-Region Access Point events: access points against moto's S3
 * Control on loopback (real SDK clients over HTTP); Multi-Region Access Points with aws-sdk-client-mock,
 * which moto does not serve. Skipped, loudly, when moto is not installed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigServiceClient, Evaluation, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import {
  CreateAccessPointCommand,
  GetAccessPointPolicyCommand,
  GetMultiRegionAccessPointCommand,
  GetMultiRegionAccessPointPolicyCommand,
  ListAccessPointsCommand,
  ListMultiRegionAccessPointsCommand,
  PutAccessPointPolicyCommand,
  PutMultiRegionAccessPointPolicyCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { defaultDeps } from '../../lib/remediation/clients';
import { InvalidEventError, StillPublicError } from '../../lib/remediation/errors';
import { createHandler, GuardDependencies, GuardHandler } from '../../lib/remediation/handler';
import { readGuardSettings } from '../../lib/remediation/settings';
import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudTrailBucketEvent,
  lambdaContext,
  policyOf,
  publicStatement,
  RecordingLogger,
  REGISTRY_TAG,
  scheduledEvent,
} from './support';
import { ACCESS_POINT_PAGE_SIZE } from '../../lib/remediation/sweep/access-point-pages';
import { liveBlockPublicAccess, livePolicy } from '../support/live-bucket';
import {
  motoAvailable,
  MotoServer,
  pointAwsAt,
  startMotoServer,
  useLoopbackHost,
} from '../support/moto-server';

const MOTO_AVAILABLE = motoAvailable();
const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('moto is not installed: skipping the access point tests');

const EVIDENCE_BUCKET = 'registry-guard-evidence';
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'remediation');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** The PutAccessPointPolicy fixture as another access point event, for `name`. */
function accessPointEvent(
  eventName: string,
  name: string,
  requestParameters: Record<string, unknown> = {},
): Record<string, unknown> {
  const event = fixture('cloudtrail-put-access-point-policy.json');
  const detail = event.detail as Record<string, unknown>;
  detail.eventName = eventName;
  detail.requestParameters = {
    ...(detail.requestParameters as Record<string, unknown>),
    name,
    ...requestParameters,
  };
  return event;
}

function accessPointArn(name: string): string {
  return `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/${name}`;
}

function apPolicy(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function publicApStatement(name: string): Record<string, unknown> {
  return {
    Sid: 'PublicRead',
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `${accessPointArn(name)}/object/*`,
  };
}

function auditorApStatement(name: string): Record<string, unknown> {
  return {
    Sid: 'Auditors',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Auditors` },
    Action: 's3:GetObject',
    Resource: `${accessPointArn(name)}/object/*`,
  };
}

/** Records every command the clients send, in order, across both. */
function recordCommands(order: string[], keys: string[], ...clients: (S3Client | S3ControlClient)[]): void {
  for (const client of clients) {
    (client as S3Client).middlewareStack.add(
      (next, context) => async (args) => {
        order.push(String(context.commandName));
        keys.push(String((args.input as { Key?: string }).Key ?? ''));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommandOrder' },
    );
  }
}

describeWithMoto('access point events against moto on loopback', () => {
  let moto: MotoServer;
  let restoreEnvironment: () => void = () => undefined;
  let s3: S3Client;
  let deps: GuardDependencies;
  let config: ConfigServiceClient;
  let sent: string[];
  let sentKeys: string[];
  /** Where the evidence object for `bucket` was written among the commands sent. */
  const evidenceWriteOf = (bucket: string): number =>
    sent.findIndex(
      (command, index) => command === 'PutObjectCommand' && sentKeys[index].startsWith(`${bucket}/`),
    );
  let published: { Subject?: string; Message?: string }[];

  beforeAll(async () => {
    moto = await startMotoServer();
    restoreEnvironment = pointAwsAt(moto.port);
    s3 = new S3Client({});
  });

  afterAll(async () => {
    await moto?.stop();
    restoreEnvironment();
  });

  beforeEach(async () => {
    await moto.reset();
    deps = defaultDeps();
    useLoopbackHost(deps.s3Control);
    config = new ConfigServiceClient({});
    mockClient(config);
    published = [];
    const sns = mockClient(deps.sns);
    sns.callsFake((input: { Subject?: string; Message?: string; MessageStructure?: string }) => {
      // Notices carry a text per protocol: what on-call reads by email is the default one.
      const message =
        input.MessageStructure === 'json'
          ? (JSON.parse(input.Message ?? '{}') as { default?: string }).default
          : input.Message;
      published.push({ Subject: input.Subject, Message: message });
      return { MessageId: 'm' };
    });
    sent = [];
    sentKeys = [];
    recordCommands(sent, sentKeys, deps.s3, deps.s3Control);
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
  });

  function guard(env: Record<string, string> = {}): GuardHandler {
    return createHandler({
      ...deps,
      config,
      logger: new RecordingLogger(),
      env: {
        AWS_REGION: 'us-east-1',
        EVIDENCE_BUCKET,
        NOTIFY_TOPIC_ARN: `arn:aws:sns:us-east-1:${ACCOUNT}:on-call`,
        ...env,
      },
    });
  }

  async function bucketWithAccessPoint(
    bucket: string,
    name: string,
    options: { tags?: Tag[]; policy?: string } = {},
  ): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (options.tags !== undefined) {
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: options.tags } }));
    }
    await deps.s3Control.send(
      new CreateAccessPointCommand({
        AccountId: ACCOUNT,
        Name: name,
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: false,
          IgnorePublicAcls: false,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
      }),
    );
    if (options.policy !== undefined) {
      await deps.s3Control.send(
        new PutAccessPointPolicyCommand({ AccountId: ACCOUNT, Name: name, Policy: options.policy }),
      );
    }
    sent.length = 0;
    sentKeys.length = 0;
  }

  async function accessPointPolicy(name: string): Promise<string | undefined> {
    try {
      return (await deps.s3Control.send(new GetAccessPointPolicyCommand({ AccountId: ACCOUNT, Name: name })))
        .Policy;
    } catch (error) {
      if ((error as Error).name === 'NoSuchAccessPointPolicy') return undefined;
      throw error;
    }
  }

  test('PutAccessPointPolicy on a registry: backs the policy up, then removes only the public statement, and pages', async () => {
    const original = apPolicy(publicApStatement('roll-analytics'), auditorApStatement('roll-analytics'));
    await bucketWithAccessPoint('electoral-roll', 'roll-analytics', {
      tags: [REGISTRY_TAG],
      policy: original,
    });

    const result = await guard()(accessPointEvent('PutAccessPointPolicy', 'roll-analytics'));

    expect(JSON.parse((await accessPointPolicy('roll-analytics')) ?? '').Statement).toEqual([
      auditorApStatement('roll-analytics'),
    ]);
    const evidenceWrite = evidenceWriteOf('electoral-roll');
    expect(evidenceWrite).toBeGreaterThanOrEqual(0);
    expect(evidenceWrite).toBeLessThan(sent.indexOf('PutAccessPointPolicyCommand'));
    const listing = await s3.send(
      new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: 'electoral-roll/' }),
    );
    expect(listing.Contents).toHaveLength(1);
    const evidence = JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: listing.Contents?.[0].Key }))
      ).Body?.transformToString()) ?? '',
    );
    expect(evidence.before.accessPoint).toMatchObject({
      name: 'roll-analytics',
      bucket: 'electoral-roll',
      policy: original,
    });
    expect(result.buckets).toEqual([
      expect.objectContaining({
        bucket: 'electoral-roll',
        compliance: 'NON_COMPLIANT',
        isRegistry: true,
        problems: ['access point roll-analytics public via its policy'],
      }),
    ]);
    expect(result.buckets[0].remediation?.stillPublic).toBe(false);
    expect(published).toHaveLength(1);
    expect(published[0].Subject).toBe('registry-guard: closed non-compliant registry bucket electoral-roll');
    expect(published[0].Message).toContain('aws s3control put-access-point-policy');
  });

  test('CreateAccessPoint on an ordinary bucket whose only statement is public: the access point policy is deleted, the object data untouched', async () => {
    await bucketWithAccessPoint('open-data', 'open-data-ap', {
      policy: apPolicy(publicApStatement('open-data-ap')),
    });

    const result = await guard()(accessPointEvent('CreateAccessPoint', 'open-data-ap'));

    expect(await accessPointPolicy('open-data-ap')).toBeUndefined();
    expect(sent).toContain('DeleteAccessPointPolicyCommand');
    expect(sent).not.toContain('PutAccessPointPolicyCommand');
    expect(result.buckets[0]).toMatchObject({
      bucket: 'open-data',
      compliance: 'NON_COMPLIANT',
      isRegistry: false,
    });
  });

  test('DeleteAccessPointPolicy leaving no policy: judged not public, nothing changed, nobody paged', async () => {
    await bucketWithAccessPoint('electoral-roll', 'roll-analytics', { tags: [REGISTRY_TAG] });

    const result = await guard()(accessPointEvent('DeleteAccessPointPolicy', 'roll-analytics'));

    expect(result.buckets[0]).toMatchObject({ bucket: 'electoral-roll', compliance: 'COMPLIANT' });
    expect(sent.filter((command) => /^(Put|Delete)AccessPoint/.test(command))).toEqual([]);
    expect(published).toEqual([]);
  });

  test('report mode: a public access point is paged and left as it is', async () => {
    const original = apPolicy(publicApStatement('roll-analytics'));
    await bucketWithAccessPoint('electoral-roll', 'roll-analytics', {
      tags: [REGISTRY_TAG],
      policy: original,
    });

    const result = await guard({ GUARD_MODE: 'report' })(
      accessPointEvent('PutAccessPointPolicy', 'roll-analytics'),
    );

    expect(await accessPointPolicy('roll-analytics')).toBe(original);
    expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
    expect(published).toHaveLength(1);
    expect(published[0].Subject).toContain('report mode, not changed');
  });

  test('an exempt ordinary bucket: its public access point is left alone, nobody paged', async () => {
    const original = apPolicy(publicApStatement('site-ap'));
    await bucketWithAccessPoint('public-site', 'site-ap', {
      policy: original,
      tags: [
        { Key: 'registry-guard:public-exemption', Value: 'static website' },
        {
          Key: 'registry-guard:exemption-expires',
          Value: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10),
        },
      ],
    });

    const result = await guard()(accessPointEvent('PutAccessPointPolicy', 'site-ap'));

    expect(await accessPointPolicy('site-ap')).toBe(original);
    expect(result.buckets[0].compliance).toBe('NOT_APPLICABLE');
    expect(published).toEqual([]);
  });

  describe('forged or misrouted access point events are refused before any AWS call', () => {
    test('an access point ARN of another account', async () => {
      await expect(
        guard()(
          accessPointEvent(
            'PutAccessPointPolicy',
            `arn:aws:s3:us-east-1:999988887777:accesspoint/roll-analytics`,
          ),
        ),
      ).rejects.toThrow(InvalidEventError);
      expect(sent).toEqual([]);
    });

    test('an x-amz-account-id that is not the event account', async () => {
      await expect(
        guard()(
          accessPointEvent('PutAccessPointPolicy', 'roll-analytics', { 'x-amz-account-id': '999988887777' }),
        ),
      ).rejects.toThrow(/x-amz-account-id 999988887777/);
      expect(sent).toEqual([]);
    });

    test('an event of another account or Region is ignored as for buckets', async () => {
      const otherAccount: Record<string, unknown> = {
        ...accessPointEvent('PutAccessPointPolicy', 'roll-analytics', { 'x-amz-account-id': '999988887777' }),
        account: '999988887777',
      };
      const otherRegion = {
        ...accessPointEvent('PutAccessPointPolicy', 'roll-analytics'),
        region: 'eu-west-1',
      };

      expect((await guard()(otherAccount)).ignored).toMatch(/account 999988887777/);
      expect((await guard()(otherRegion)).ignored).toMatch(/Region eu-west-1/);
      expect(sent).toEqual([]);
    });

    test('a name that is not an access point name', async () => {
      await expect(guard()(accessPointEvent('PutAccessPointPolicy', '../electoral-roll'))).rejects.toThrow(
        InvalidEventError,
      );
    });
  });

  /** Config's evaluations, captured in the order sent. */
  function captureEvaluations(): { id: string; type: string; at: string }[] {
    const captured: { id: string; type: string; at: string }[] = [];
    config = new ConfigServiceClient({});
    mockClient(config)
      .on(PutEvaluationsCommand)
      .callsFake((input: { Evaluations?: Evaluation[] }) => {
        for (const evaluation of input.Evaluations ?? []) {
          captured.push({
            id: evaluation.ComplianceResourceId ?? '',
            type: evaluation.ComplianceType ?? '',
            at: new Date(evaluation.OrderingTimestamp ?? 0).toISOString(),
          });
        }
        return { FailedEvaluations: [] };
      });
    return captured;
  }

  describe('the sweep judges access points too', () => {
    test('without a sweep queue: every access point, page by page; a public one on a registry is closed and the registry NON_COMPLIANT right after its own evaluation', async () => {
      const original = apPolicy(publicApStatement('roll-analytics'), auditorApStatement('roll-analytics'));
      await bucketWithAccessPoint('electoral-roll', 'roll-analytics', {
        tags: [REGISTRY_TAG],
        policy: original,
      });
      // The registry's own settings are its baseline: only the access point opens it.
      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: 'electoral-roll', PublicAccessBlockConfiguration: ALL_ON }),
      );
      // More private access points than one page (24) holds, on an ordinary bucket.
      await s3.send(new CreateBucketCommand({ Bucket: 'quiet' }));
      for (let index = 0; index < ACCESS_POINT_PAGE_SIZE + 2; index += 1) {
        const name = `quiet-${String(index).padStart(2, '0')}`;
        await deps.s3Control.send(
          new CreateAccessPointCommand({ AccountId: ACCOUNT, Name: name, Bucket: 'quiet' }),
        );
        await deps.s3Control.send(
          new PutAccessPointPolicyCommand({
            AccountId: ACCOUNT,
            Name: name,
            Policy: apPolicy(auditorApStatement(name)),
          }),
        );
      }
      sent.length = 0;
      const evaluations = captureEvaluations();

      const result = await guard()(
        scheduledEvent(),
        lambdaContext(() => 280_000),
      );

      expect(sent.filter((command) => command === 'ListAccessPointsCommand')).toHaveLength(2);
      expect(sent).not.toContain('ListMultiRegionAccessPointsCommand'); // us-east-1: not the MRAP Region
      expect(JSON.parse((await accessPointPolicy('roll-analytics')) ?? '').Statement).toEqual([
        auditorApStatement('roll-analytics'),
      ]);
      const sweptAt = '2026-11-25T03:00:00.000Z';
      const justAfter = '2026-11-25T03:00:00.001Z';
      expect(evaluations.filter((evaluation) => evaluation.id === 'electoral-roll')).toEqual([
        expect.objectContaining({ at: sweptAt }),
        { id: 'electoral-roll', type: 'NON_COMPLIANT', at: justAfter },
      ]);
      // Private access points say nothing about their bucket: its own evaluation stands.
      expect(evaluations.filter((evaluation) => evaluation.id === 'quiet')).toEqual([
        { id: 'quiet', type: 'COMPLIANT', at: sweptAt },
      ]);
      expect(evaluations.every((evaluation) => !/access point/.test(evaluation.id))).toBe(true);
      expect(result.buckets.filter((outcome) => outcome.problems.length > 0)).toEqual([
        expect.objectContaining({
          bucket: 'electoral-roll',
          // RestrictPublicBuckets on the bucket neutralises it: that still counts against a registry.
          problems: ['access point roll-analytics public via its policy (neutralised)'],
        }),
      ]);
      expect(published.map((notice) => notice.Subject)).toEqual([
        'registry-guard: closed non-compliant registry bucket electoral-roll',
      ]);
    });

    test('a listing that fails is one "could not verify" in the sweep digest, never nothing to judge', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'quiet' }));
      const evaluations = captureEvaluations();
      deps.s3Control.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ListAccessPointsCommand') {
            throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
          }
          return next(args);
        },
        { step: 'initialize', name: 'denyListAccessPoints' },
      );

      const result = await guard()(
        scheduledEvent(),
        lambdaContext(() => 280_000),
      );

      expect(result.buckets).toContainEqual(
        expect.objectContaining({
          bucket: `access points of account ${ACCOUNT}`,
          compliance: 'NON_COMPLIANT',
          unverifiable: expect.stringContaining('AccessDenied'),
        }),
      );
      expect(evaluations.map((evaluation) => evaluation.id)).not.toContain(
        `access points of account ${ACCOUNT}`,
      );
      expect(published).toHaveLength(1);
      expect(published[0].Subject).toMatch(/COULD NOT VERIFY/);
      expect(published[0].Message).toContain(`access points of account ${ACCOUNT}`);
    });
  });

  describe('Multi-Region Access Points (S3 Control mocked: moto has none)', () => {
    function mrapGuard(): { handler: GuardHandler; control: ReturnType<typeof mockClient> } {
      const s3Control = new S3ControlClient({ region: 'us-west-2' });
      const control = mockClient(s3Control);
      const handler = createHandler({
        ...deps,
        s3Control,
        config,
        logger: new RecordingLogger(),
        env: {
          AWS_REGION: 'us-west-2',
          EVIDENCE_BUCKET,
          NOTIFY_TOPIC_ARN: `arn:aws:sns:us-west-2:${ACCOUNT}:on-call`,
        },
      });
      return { handler, control };
    }

    test('PutMultiRegionAccessPointPolicy making a registry public: paged, not rewritten (the change is asynchronous), the run fails as still public', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'electoral-roll' }));
      await s3.send(
        new PutBucketTaggingCommand({ Bucket: 'electoral-roll', Tagging: { TagSet: [REGISTRY_TAG] } }),
      );
      const { handler, control } = mrapGuard();
      control.on(GetMultiRegionAccessPointCommand, { AccountId: ACCOUNT, Name: 'roll-global' }).resolves({
        AccessPoint: {
          Name: 'roll-global',
          Regions: [{ Bucket: 'electoral-roll', Region: 'us-east-1', BucketAccountId: ACCOUNT }],
          PublicAccessBlock: { RestrictPublicBuckets: false, BlockPublicPolicy: false },
        },
      });
      control
        .on(GetMultiRegionAccessPointPolicyCommand, { AccountId: ACCOUNT, Name: 'roll-global' })
        .resolves({
          Policy: {
            Proposed: {
              Policy: apPolicy({
                Effect: 'Allow',
                Principal: '*',
                Action: 's3:GetObject',
                Resource: `arn:aws:s3::${ACCOUNT}:accesspoint/mfzwi23gnjvgw.mrap/object/*`,
              }),
            },
          },
        });

      const run = handler(fixture('cloudtrail-put-multi-region-access-point-policy.json'));

      await expect(run).rejects.toThrow(StillPublicError);
      expect(control.commandCalls(PutMultiRegionAccessPointPolicyCommand)).toEqual([]);
      expect(published).toHaveLength(1);
      expect(published[0].Subject).toContain('electoral-roll');
      expect(published[0].Message).toContain('Multi-Region Access Point roll-global public via its policy');
      expect(published[0].Message).toContain('asynchronous');
      // EventBridge retries a failed invocation: the retry is the same incident, and pages nobody again.
      await expect(handler(fixture('cloudtrail-put-multi-region-access-point-policy.json'))).rejects.toThrow(
        StillPublicError,
      );
      expect(published).toHaveLength(1);
    });

    test('a Multi-Region Access Point whose policy names only the account: not public, nobody paged', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'electoral-roll' }));
      const { handler, control } = mrapGuard();
      control.on(GetMultiRegionAccessPointCommand).resolves({
        AccessPoint: {
          Name: 'roll-global',
          Regions: [{ Bucket: 'electoral-roll', BucketAccountId: ACCOUNT }],
        },
      });
      control.on(GetMultiRegionAccessPointPolicyCommand).resolves({
        Policy: { Established: { Policy: apPolicy(auditorApStatement('roll-global')) } },
      });

      const result = await handler(fixture('cloudtrail-put-multi-region-access-point-policy.json'));

      expect(result.buckets).toEqual([
        expect.objectContaining({ bucket: 'electoral-roll', compliance: 'COMPLIANT' }),
      ]);
      expect(published).toEqual([]);
    });

    test('the sweep in us-west-2 lists Multi-Region Access Points and pages about a public one; elsewhere it does not list them', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'electoral-roll' }));
      await s3.send(
        new PutBucketTaggingCommand({ Bucket: 'electoral-roll', Tagging: { TagSet: [REGISTRY_TAG] } }),
      );
      const evaluations = captureEvaluations();
      const { handler, control } = mrapGuard();
      control.on(ListAccessPointsCommand).resolves({ AccessPointList: [] });
      control.on(ListMultiRegionAccessPointsCommand).resolves({ AccessPoints: [{ Name: 'roll-global' }] });
      control.on(GetMultiRegionAccessPointCommand).resolves({
        AccessPoint: {
          Name: 'roll-global',
          Regions: [{ Bucket: 'electoral-roll', BucketAccountId: ACCOUNT }],
          PublicAccessBlock: { RestrictPublicBuckets: false, BlockPublicPolicy: false },
        },
      });
      control.on(GetMultiRegionAccessPointPolicyCommand).resolves({
        Policy: {
          Established: {
            Policy: apPolicy({
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:GetObject',
              Resource: `arn:aws:s3::${ACCOUNT}:accesspoint/mfzwi23gnjvgw.mrap/object/*`,
            }),
          },
        },
      });

      await expect(
        handler(
          scheduledEvent(),
          lambdaContext(() => 280_000),
        ),
      ).rejects.toThrow(StillPublicError);

      expect(control.commandCalls(ListMultiRegionAccessPointsCommand)).toHaveLength(1);
      expect(evaluations).toContainEqual({
        id: 'electoral-roll',
        type: 'NON_COMPLIANT',
        at: '2026-11-25T03:00:00.001Z',
      });
      expect(published.map((notice) => notice.Message).join('\n')).toContain(
        'Multi-Region Access Point roll-global public via its policy',
      );
      // The guard of any other Region leaves them to the one in us-west-2.
      await guard()(
        scheduledEvent(),
        lambdaContext(() => 280_000),
      );
      expect(sent).not.toContain('ListMultiRegionAccessPointsCommand');
    });
  });

  describe('object ACLs (CloudTrail data events)', () => {
    const KEY = 'exports/roll-2026.csv';

    function objectEvent(
      eventName: string,
      bucket: string,
      requestParameters: Record<string, unknown> = {},
    ): Record<string, unknown> {
      const event = fixture('cloudtrail-put-object-public-read.json');
      const detail = event.detail as Record<string, unknown>;
      detail.eventName = eventName;
      detail.requestParameters = {
        ...(detail.requestParameters as Record<string, unknown>),
        bucketName: bucket,
        ...requestParameters,
      };
      return event;
    }

    async function publicObject(
      bucket: string,
      options: { tags?: Tag[]; ownership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' } = {},
    ): Promise<void> {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ObjectOwnership: options.ownership ?? 'BucketOwnerPreferred',
        }),
      );
      if (options.tags !== undefined) {
        await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: options.tags } }));
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: 'name,address\n' }));
      if (options.ownership !== 'BucketOwnerEnforced') {
        await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: KEY, ACL: 'public-read' }));
      }
      sent.length = 0;
      sentKeys.length = 0;
    }

    async function objectIsPublic(bucket: string): Promise<boolean> {
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: KEY }));
      return (acl.Grants ?? []).some((grant) => /AllUsers|AuthenticatedUsers/.test(grant.Grantee?.URI ?? ''));
    }

    test('PutObject with x-amz-acl public-read in a registry: the ACL is backed up, then only the public grant removed; the object stays', async () => {
      await publicObject('electoral-roll', { tags: [REGISTRY_TAG] });

      const result = await guard()(objectEvent('PutObject', 'electoral-roll'));

      expect(await objectIsPublic('electoral-roll')).toBe(false);
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'electoral-roll', Key: KEY }));
      expect(acl.Grants?.some((grant) => grant.Permission === 'FULL_CONTROL')).toBe(true);
      // The object itself is still there, its data untouched.
      const object = await s3.send(new GetObjectCommand({ Bucket: 'electoral-roll', Key: KEY }));
      expect(await object.Body?.transformToString()).toBe('name,address\n');
      const evidenceWrite = evidenceWriteOf('electoral-roll');
      expect(evidenceWrite).toBeGreaterThanOrEqual(0);
      expect(evidenceWrite).toBeLessThan(sent.indexOf('PutObjectAclCommand'));
      const listing = await s3.send(
        new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: 'electoral-roll/' }),
      );
      const evidence = JSON.parse(
        (await (
          await s3.send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: listing.Contents?.[0].Key }))
        ).Body?.transformToString()) ?? '',
      );
      expect(evidence.before.object.key).toBe(KEY);
      expect(
        evidence.before.object.acl.Grants.some((grant: { Grantee?: { URI?: string } }) =>
          grant.Grantee?.URI?.endsWith('/AllUsers'),
        ),
      ).toBe(true);
      expect(result.buckets[0]).toMatchObject({ compliance: 'NON_COMPLIANT', isRegistry: true });
      expect(result.buckets[0].remediation?.stillPublic).toBe(false);
      expect(published).toHaveLength(1);
      expect(published[0].Message).toContain(`object ${KEY} public via its ACL`);
      expect(published[0].Message).toContain('aws s3api put-object-acl');
    });

    test('PutObjectAcl on an ordinary bucket that is not exempt: closed too', async () => {
      await publicObject('open-data');

      const result = await guard()(
        objectEvent('PutObjectAcl', 'open-data', { 'x-amz-acl': undefined, acl: '' }),
      );

      expect(await objectIsPublic('open-data')).toBe(false);
      expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
    });

    test('BucketOwnerEnforced: ACLs do not apply, nothing is read but the ownership, nothing changed', async () => {
      await publicObject('electoral-roll', { tags: [REGISTRY_TAG], ownership: 'BucketOwnerEnforced' });

      const result = await guard()(objectEvent('PutObject', 'electoral-roll'));

      // Only the ownership is read of the bucket (the listing is the guard's own outstanding-notice check).
      expect(sent.filter((command) => command !== 'ListObjectsV2Command')).toEqual([
        'GetBucketOwnershipControlsCommand',
      ]);
      expect(result.buckets[0].compliance).toBe('NOT_APPLICABLE');
      expect(published).toEqual([]);
    });

    test('report mode: paged, the ACL left as it is', async () => {
      await publicObject('electoral-roll', { tags: [REGISTRY_TAG] });

      await guard({ GUARD_MODE: 'report' })(
        objectEvent('CopyObject', 'electoral-roll', { 'x-amz-acl': 'authenticated-read' }),
      );

      expect(await objectIsPublic('electoral-roll')).toBe(true);
      expect(published).toHaveLength(1);
    });

    test('an upload without a public canned ACL, or an object of another account, is refused unread', async () => {
      await expect(
        guard()(objectEvent('PutObject', 'electoral-roll', { 'x-amz-acl': 'private' })),
      ).rejects.toThrow(InvalidEventError);
      const otherAccount = { ...objectEvent('PutObject', 'electoral-roll'), account: '999988887777' };
      expect((await guard()(otherAccount)).ignored).toMatch(/account 999988887777/);
      expect(sent).toEqual([]);
    });
  });

  describe('external grants on registry buckets', () => {
    const partnerStatement = (
      bucket: string,
      condition?: Record<string, unknown>,
    ): Record<string, unknown> => ({
      Sid: 'Partner',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::999988887777:root' },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${bucket}/*`,
      ...(condition === undefined ? {} : { Condition: condition }),
    });

    async function registry(bucket: string, policy: string, blockPublicAccess = true): Promise<void> {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [REGISTRY_TAG] } }));
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: blockPublicAccess
            ? ALL_ON
            : {
                BlockPublicAcls: false,
                IgnorePublicAcls: false,
                BlockPublicPolicy: false,
                RestrictPublicBuckets: false,
              },
        }),
      );
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
      sent.length = 0;
      sentKeys.length = 0;
    }

    test('a grant to another account: NON_COMPLIANT and paged as EXTERNAL ACCESS, the policy left as it is, no evidence written', async () => {
      const policy = policyOf(auditorStatement('electoral-roll'), partnerStatement('electoral-roll'));
      await registry('electoral-roll', policy);

      const result = await guard()(cloudTrailBucketEvent('PutBucketPolicy', 'electoral-roll'));

      expect(await livePolicy(s3, 'electoral-roll')).toBe(policy);
      expect(sent.filter((command) => /^(Put|Delete)Bucket/.test(command))).toEqual([]);
      const evidence = await s3.send(
        new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: 'electoral-roll/' }),
      );
      expect(evidence.Contents ?? []).toEqual([]);
      expect(result.buckets[0]).toMatchObject({ compliance: 'NON_COMPLIANT', isRegistry: true });
      expect(result.buckets[0].problems).toEqual([
        'EXTERNAL ACCESS via bucket policy (statement 2 (Sid "Partner"))',
      ]);
      expect(result.buckets[0].annotation).toContain('an external grant is for a person to judge');
      expect(published).toHaveLength(1);
      expect(published[0].Message?.startsWith('EXTERNAL ACCESS')).toBe(true);
      expect(published[0].Message).toContain('999988887777');
      expect(published[0].Message).not.toContain('report mode');
    });

    test('the same grant confined to the trusted organization with aws:PrincipalOrgID: compliant, nobody paged', async () => {
      await registry(
        'electoral-roll',
        policyOf(
          partnerStatement('electoral-roll', { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }),
        ),
      );

      const result = await guard({ GUARD_TRUSTED_ORGANIZATION_ID: 'o-a1b2c3d4e5' })(
        cloudTrailBucketEvent('PutBucketPolicy', 'electoral-roll'),
      );

      expect(result.buckets[0].compliance).toBe('COMPLIANT');
      expect(published).toEqual([]);
    });

    test('a listed trusted account is inside the zone', async () => {
      await registry('electoral-roll', policyOf(partnerStatement('electoral-roll')));

      const result = await guard({ GUARD_TRUSTED_ACCOUNT_IDS: '999988887777' })(
        cloudTrailBucketEvent('PutBucketPolicy', 'electoral-roll'),
      );

      expect(result.buckets[0].compliance).toBe('COMPLIANT');
    });

    test('public and external together: only the public statement is removed, the external one is kept and paged', async () => {
      await registry(
        'electoral-roll',
        policyOf(publicStatement('electoral-roll'), partnerStatement('electoral-roll')),
        false,
      );

      const result = await guard()(cloudTrailBucketEvent('PutBucketPolicy', 'electoral-roll'));

      expect(await liveBlockPublicAccess(s3, 'electoral-roll')).toEqual(ALL_ON);
      expect(JSON.parse((await livePolicy(s3, 'electoral-roll')) ?? '').Statement).toEqual([
        partnerStatement('electoral-roll'),
      ]);
      expect(result.buckets[0].problems).toEqual(
        expect.arrayContaining(['public via bucket policy', expect.stringMatching(/^EXTERNAL ACCESS/)]),
      );
      expect(published).toHaveLength(1);
      expect(published[0].Message?.startsWith('EXTERNAL ACCESS')).toBe(true);
    });

    test('an ordinary bucket may grant other accounts: not judged for external access', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'partner-exchange' }));
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: 'partner-exchange',
          Policy: policyOf(partnerStatement('partner-exchange')),
        }),
      );

      const result = await guard()(cloudTrailBucketEvent('PutBucketPolicy', 'partner-exchange'));

      expect(result.buckets[0].compliance).toBe('COMPLIANT');
      expect(published).toEqual([]);
    });
  });
});

describe('the zone of trust from the environment', () => {
  test('a malformed organization or account id is left out with a warning: the zone only narrows', () => {
    const settings = readGuardSettings({
      GUARD_TRUSTED_ORGANIZATION_ID: 'r-root',
      GUARD_TRUSTED_ACCOUNT_IDS: '999988887777, arn:aws:iam::111122223333:root,',
    });
    expect(settings.trustedOrganizationId).toBeUndefined();
    expect(settings.trustedAccountIds).toEqual(['999988887777']);
    expect(settings.warnings).toEqual([
      expect.stringContaining('GUARD_TRUSTED_ORGANIZATION_ID "r-root" is not an organization id'),
      expect.stringContaining('"arn:aws:iam::111122223333:root"'),
    ]);
  });

  test('unset: the account alone', () => {
    const settings = readGuardSettings({});
    expect(settings.trustedOrganizationId).toBeUndefined();
    expect(settings.trustedAccountIds).toEqual([]);
    expect(settings.warnings).toEqual([]);
  });
});
