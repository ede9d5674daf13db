/**
 * Test support for the remediation Lambda: real event fixtures, and a small in-memory S3 and S3 Control
 * behind aws-sdk-client-mock, so a test can assert on what the guard wrote and on what it then read back.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  Grant,
  ListBucketsCommand,
  ListObjectsV2Command,
  Owner,
  PublicAccessBlockConfiguration,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
  Tag,
} from '@aws-sdk/client-s3';
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  ListAccessPointsCommand,
  ListMultiRegionAccessPointsCommand,
  S3ControlClient,
  S3ControlServiceException,
} from '@aws-sdk/client-s3-control';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { EVIDENCE_PREFIXES } from '../../lib/guard-facts';
import { isCloudFormationResponseUrl } from '../../lib/remediation/events';
import { createHandler, GuardHandler } from '../../lib/remediation/handler';
import { GuardResult } from '../../lib/remediation/report/run-report';
import { GuardLogger, InvocationContext } from '../../lib/remediation/run-context';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const NOW = new Date('2026-11-25T03:00:00.000Z');
export const EVIDENCE_BUCKET = 'registry-guard-evidence';
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:registry-guard-on-call`;
export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export const OWNER: Owner = { ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a' };
export const REGISTRY_TAG: Tag = { Key: 'registry-guard:classification', Value: 'sensitive-registry' };
export const ALL_ON: PublicAccessBlockConfiguration = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/** The guard's records in the evidence bucket that are not evidence. */
const GUARD_RECORD_PREFIXES = [
  EVIDENCE_PREFIXES.incidents,
  EVIDENCE_PREFIXES.pendingNotices,
  EVIDENCE_PREFIXES.registries,
  EVIDENCE_PREFIXES.unreadablePendingNotices,
];

const FIXTURES = path.join(__dirname, '../fixtures/remediation');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** A bucket policy statement anyone can use. */
export function publicStatement(bucket: string, sid = 'PublicRead'): Record<string, unknown> {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/*`,
  };
}

/** A statement for one role in the account: not public. */
export function auditorStatement(bucket: string): Record<string, unknown> {
  return {
    Sid: 'Auditors',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Auditors` },
    Action: ['s3:GetObject', 's3:ListBucket'],
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
  };
}

/** A TLS-only deny: never public, must survive every rewrite. */
export function denyInsecureTransport(bucket: string): Record<string, unknown> {
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

export function policyOf(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'RegistryPolicy', Statement: statements });
}

export const OWNER_GRANT: Grant = {
  Grantee: { Type: 'CanonicalUser', ID: OWNER.ID },
  Permission: 'FULL_CONTROL',
};
export const PUBLIC_READ_GRANT: Grant = { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' };
export const LOG_DELIVERY_GRANT: Grant = {
  Grantee: { Type: 'Group', URI: LOG_DELIVERY },
  Permission: 'WRITE',
};

/** The ConfigurationItemChangeNotification fixture, for another bucket or status. */
export function configChangeEvent(
  bucket: string,
  options: { status?: string; eventLeftScope?: boolean; accountId?: string | null } = {},
): Record<string, unknown> {
  const event = fixture('config-item-change.json');
  const invoking = JSON.parse(event.invokingEvent as string) as Record<string, Record<string, unknown>>;
  const item = invoking.configurationItem;
  item.resourceId = bucket;
  item.resourceName = bucket;
  item.ARN = `arn:aws:s3:::${bucket}`;
  if (options.status !== undefined) item.configurationItemStatus = options.status;
  event.invokingEvent = JSON.stringify(invoking);
  if (options.eventLeftScope !== undefined) event.eventLeftScope = options.eventLeftScope;
  if (options.accountId === null) delete event.accountId;
  return event;
}

export function oversizedEvent(bucket: string): Record<string, unknown> {
  const event = fixture('config-item-oversized.json');
  const invoking = JSON.parse(event.invokingEvent as string) as Record<string, Record<string, unknown>>;
  invoking.configurationItemSummary.resourceId = bucket;
  invoking.configurationItemSummary.resourceName = bucket;
  event.invokingEvent = JSON.stringify(invoking);
  return event;
}

export function scheduledEvent(): Record<string, unknown> {
  return fixture('config-scheduled.json');
}

/** The EventBridge CloudTrail fixture, for another bucket-level event name or bucket. */
export function cloudTrailBucketEvent(eventName: string, bucket: string): Record<string, unknown> {
  const event = fixture('cloudtrail-put-bucket-policy.json');
  const detail = event.detail as Record<string, Record<string, unknown> | string>;
  detail.eventName = eventName;
  (detail.requestParameters as Record<string, unknown>).bucketName = bucket;
  return event;
}

export function cloudTrailAccountEvent(eventName: string): Record<string, unknown> {
  const event = fixture('cloudtrail-delete-account-public-access-block.json');
  (event.detail as Record<string, unknown>).eventName = eventName;
  return event;
}

/** The logical id CloudFormation gives the custom resource in the fixture. */
export const CUSTOM_RESOURCE_LOGICAL_ID = 'PublicAccessGuardAccountBlockPublicAccess5A1E2F3B';
/** The stack in the fixture: a StackSet instance in {@link ACCOUNT}. */
export const STACK_ID =
  'arn:aws:cloudformation:us-east-1:123456789012:stack/StackSet-registry-guard-4b1e9c2a-7d3f-4e8b-a6c5-0f9d2e1b3a47/8c4f2a10-ca71-11f0-9d3e-0a1b2c3d4e5f';

/**
 * The CloudFormation Create fixture as another request type, answered at `responseUrl`: Update and Delete
 * carry the PhysicalResourceId the Create was answered with (and Update the old properties).
 */
export function cloudFormationRequest(
  requestType: string,
  responseUrl: string,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const event = fixture('cloudformation-create-account-block-public-access.json');
  event.RequestType = requestType;
  event.ResponseURL = responseUrl;
  if (requestType === 'Update' || requestType === 'Delete') {
    event.PhysicalResourceId = `registry-guard-account-block-public-access-${ACCOUNT}`;
  }
  if (requestType === 'Update') event.OldResourceProperties = { ...(event.ResourceProperties as object) };
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) delete event[field];
    else event[field] = value;
  }
  return event;
}

/** One PUT the response server received. */
export interface ReceivedResponse {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for the pre-signed S3 URL CloudFormation waits on: it keeps
 * every request and answers with `status` (200 unless a test says otherwise).
 */
export class ResponseServer {
  readonly received: ReceivedResponse[] = [];
  /** The HTTP status every PUT is answered with. */
  status = 200;
  port = 0;
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.statusCode = this.status;
      response.end();
    });
  });

  /** Listens on a free loopback port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** A URL shaped like CloudFormation's: a path per request and a signature in the query. */
  responseUrl(requestId = 'request-1'): string {
    return `http://127.0.0.1:${this.port}/arn%3Aaws%3Acloudformation/${requestId}?X-Amz-Signature=0123456789abcdef`;
  }

  /** The response documents received, parsed. */
  bodies(): Record<string, unknown>[] {
    return this.received.map((request) => JSON.parse(request.body) as Record<string, unknown>);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}

/** A loopback URL nothing listens on: the connection is refused. */
export async function refusedUrl(): Promise<string> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as net.AddressInfo;
  await new Promise((resolve) => listener.close(resolve));
  return `http://127.0.0.1:${port}/refused?X-Amz-Signature=0123456789abcdef`;
}

/**
 * What a test handler may answer: the real rule, plus the loopback response server the tests stand in
 * for CloudFormation's pre-signed URL with.
 */
export function isLoopbackOrCloudFormation(url: URL, stackRegion?: string): boolean {
  return (
    (url.protocol === 'http:' && url.hostname === '127.0.0.1') ||
    isCloudFormationResponseUrl(url, stackRegion)
  );
}

/** A ListObjectsV2 continuation token of the fake: the last key listed, encoded so callers cannot read it. */
function continueAfter(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64');
}

function listedAfter(continuationToken: string): string {
  return Buffer.from(continuationToken, 'base64').toString('utf8');
}

/** A stable ETag for a body, as S3's MD5 is for a simple upload. */
export function etagOf(body: string): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** An error as the SDK raises it for an S3 error response. */
export function s3Error(name: string, message = name, httpStatusCode = 400): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message });
}

/** One bucket as the fake S3 holds it. */
export interface FakeBucket {
  tags?: Tag[];
  policy?: string;
  grants?: Grant[];
  owner?: Owner;
  blockPublicAccess?: PublicAccessBlockConfiguration;
  objectOwnership?: string;
  region?: string;
  /**
   * The account that owns the bucket ({@link ACCOUNT} unless set): a call whose ExpectedBucketOwner names
   * another account is refused with AccessDenied (403), as S3 refuses it.
   */
  accountId?: string;
}

/** A logger that keeps what it is told, for assertions. */
export class RecordingLogger implements GuardLogger {
  readonly entries: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  info(message: string, attributes: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, attributes });
  }
  error(message: string, attributes: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, attributes });
  }
  errors(): string[] {
    return this.entries.filter((entry) => entry.level === 'error').map((entry) => entry.message);
  }
}

type AnyStub = AwsClientStub<S3Client> | AwsClientStub<S3ControlClient>;

/** One operation sent to S3 or S3 Control: see {@link FakeAccount.sent}. */
export interface SentOperation {
  readonly name: string;
  readonly bucket?: string;
  /** The object key, or the prefix of a listing. */
  readonly key?: string;
  /** The ExpectedBucketOwner the call sent, if any. */
  readonly expectedBucketOwner?: string;
}

/** True for a call on the guard's own records in the evidence bucket: `_incidents/`, `_registries/`, ... */
export function isGuardRecordOperation(operation: SentOperation): boolean {
  return (
    operation.bucket === EVIDENCE_BUCKET &&
    operation.key !== undefined &&
    GUARD_RECORD_PREFIXES.some((prefix) => (operation.key as string).startsWith(prefix))
  );
}

/**
 * An account in memory: S3 buckets and objects, account-level Block Public Access, and mocks for Config,
 * SNS and STS. `failNext` makes an operation on a bucket fail once; `failAlways` every time.
 */
export class FakeAccount {
  readonly buckets = new Map<string, FakeBucket>();
  /** Objects written to any bucket, by `bucket/key`. */
  readonly objects = new Map<string, string>();
  accountBlockPublicAccess: PublicAccessBlockConfiguration | undefined;
  readonly s3 = new S3Client({ region: REGION });
  readonly s3Control = new S3ControlClient({ region: REGION });
  readonly config = new ConfigServiceClient({ region: REGION });
  readonly sns = new SNSClient({ region: REGION });
  readonly sts = new STSClient({ region: REGION });
  readonly s3Mock = mockClient(this.s3);
  readonly s3ControlMock = mockClient(this.s3Control);
  readonly configMock = mockClient(this.config);
  readonly snsMock = mockClient(this.sns);
  readonly stsMock = mockClient(this.sts);
  readonly logger = new RecordingLogger();
  /** ListBuckets page size. */
  listPageSize = 1000;
  /** Object versions handed out so far. */
  private versions = 0;
  private readonly failures = new Map<string, { error: Error; times: number }>();

  constructor() {
    this.buckets.set(EVIDENCE_BUCKET, {
      tags: [],
      grants: [OWNER_GRANT],
      owner: OWNER,
      blockPublicAccess: ALL_ON,
    });
    const s3 = this.s3Mock;
    s3.on(GetBucketTaggingCommand).callsFake((input) =>
      this.withBucket('GetBucketTagging', input, (bucket) => {
        if (bucket.tags === undefined || bucket.tags.length === 0)
          throw s3Error('NoSuchTagSet', 'The TagSet does not exist', 404);
        return { TagSet: bucket.tags };
      }),
    );
    s3.on(GetBucketPolicyCommand).callsFake((input) =>
      this.withBucket('GetBucketPolicy', input, (bucket) => {
        if (bucket.policy === undefined)
          throw s3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', 404);
        return { Policy: bucket.policy };
      }),
    );
    s3.on(PutBucketPolicyCommand).callsFake((input) =>
      this.withBucket('PutBucketPolicy', input, (bucket) => {
        bucket.policy = input.Policy;
        return {};
      }),
    );
    s3.on(DeleteBucketPolicyCommand).callsFake((input) =>
      this.withBucket('DeleteBucketPolicy', input, (bucket) => {
        bucket.policy = undefined;
        return {};
      }),
    );
    s3.on(GetBucketAclCommand).callsFake((input) =>
      this.withBucket('GetBucketAcl', input, (bucket) => ({
        Owner: bucket.owner ?? OWNER,
        Grants: bucket.grants ?? [OWNER_GRANT],
      })),
    );
    s3.on(PutBucketAclCommand).callsFake((input) =>
      this.withBucket('PutBucketAcl', input, (bucket) => {
        bucket.owner = input.AccessControlPolicy.Owner;
        bucket.grants = input.AccessControlPolicy.Grants;
        return {};
      }),
    );
    s3.on(GetPublicAccessBlockCommand).callsFake((input) =>
      this.withBucket('GetPublicAccessBlock', input, (bucket) => {
        if (bucket.blockPublicAccess === undefined) {
          throw s3Error(
            'NoSuchPublicAccessBlockConfiguration',
            'The public access block configuration was not found',
            404,
          );
        }
        return { PublicAccessBlockConfiguration: { ...bucket.blockPublicAccess } };
      }),
    );
    s3.on(PutPublicAccessBlockCommand).callsFake((input) =>
      this.withBucket('PutPublicAccessBlock', input, (bucket) => {
        bucket.blockPublicAccess = { ...input.PublicAccessBlockConfiguration };
        return {};
      }),
    );
    s3.on(GetBucketOwnershipControlsCommand).callsFake((input) =>
      this.withBucket('GetBucketOwnershipControls', input, (bucket) => {
        if (bucket.objectOwnership === undefined) {
          throw s3Error(
            'OwnershipControlsNotFoundError',
            'The bucket ownership controls were not found',
            404,
          );
        }
        return { OwnershipControls: { Rules: [{ ObjectOwnership: bucket.objectOwnership }] } };
      }),
    );
    s3.on(PutObjectCommand).callsFake((input) =>
      this.withBucket('PutObject', input, () => {
        const name = `${input.Bucket}/${input.Key}`;
        const existing = this.objects.get(name);
        if (input.IfNoneMatch === '*' && existing !== undefined) {
          throw s3Error(
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            412,
          );
        }
        if (input.IfMatch !== undefined && (existing === undefined || etagOf(existing) !== input.IfMatch)) {
          throw s3Error(
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            412,
          );
        }
        this.objects.set(name, String(input.Body));
        this.versions += 1;
        return { ETag: etagOf(String(input.Body)), VersionId: `v${this.versions}` };
      }),
    );
    s3.on(GetObjectCommand).callsFake((input) =>
      this.withBucket('GetObject', input, () => {
        const body = this.objects.get(`${input.Bucket}/${input.Key}`);
        if (body === undefined) throw s3Error('NoSuchKey', 'The specified key does not exist.', 404);
        return { Body: { transformToString: async () => body }, ETag: etagOf(body) };
      }),
    );
    s3.on(HeadObjectCommand).callsFake((input) =>
      this.withBucket('HeadObject', input, () => {
        const body = this.objects.get(`${input.Bucket}/${input.Key}`);
        if (body === undefined) throw s3Error('NotFound', 'Not Found', 404);
        return { ETag: etagOf(body) };
      }),
    );
    s3.on(DeleteObjectCommand).callsFake((input) =>
      this.withBucket('DeleteObject', input, () => {
        this.objects.delete(`${input.Bucket}/${input.Key}`);
        return {};
      }),
    );
    s3.on(ListObjectsV2Command).callsFake((input) =>
      this.withBucket('ListObjectsV2', input, () => {
        const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
        const keys = [...this.objects.keys()]
          .filter((name) => name.startsWith(prefix))
          .map((name) => name.slice(input.Bucket.length + 1))
          .filter((key) => input.StartAfter === undefined || key > input.StartAfter)
          .filter(
            (key) => input.ContinuationToken === undefined || key > listedAfter(input.ContinuationToken),
          )
          .filter(
            (key) =>
              input.Delimiter === undefined || !key.slice(input.Prefix.length).includes(input.Delimiter),
          )
          .sort();
        const page = input.MaxKeys === undefined ? keys : keys.slice(0, input.MaxKeys);
        return {
          // Every object was written at the tests' NOW: young, as far as a run at NOW can tell.
          Contents: page.map((Key) => ({ Key, LastModified: NOW })),
          KeyCount: page.length,
          IsTruncated: page.length < keys.length,
          // Opaque to the caller, as S3's is: here, the last key of this page.
          NextContinuationToken:
            page.length < keys.length && page.length > 0 ? continueAfter(page[page.length - 1]) : undefined,
        };
      }),
    );
    s3.on(ListBucketsCommand).callsFake((input) => {
      this.failIfAsked('ListBuckets', '*');
      const names = [...this.buckets.entries()]
        .filter(
          ([, bucket]) =>
            input.BucketRegion === undefined || (bucket.region ?? REGION) === input.BucketRegion,
        )
        .map(([name]) => name)
        .sort();
      const start = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
      const end = start + this.listPageSize;
      return {
        Buckets: names
          .slice(start, end)
          .map((Name) => ({ Name, BucketRegion: this.buckets.get(Name)?.region ?? REGION })),
        ContinuationToken: end < names.length ? String(end) : undefined,
      };
    });

    this.s3ControlMock.on(GetAccountPublicAccessBlockCommand).callsFake(() => {
      this.failIfAsked('GetAccountPublicAccessBlock', ACCOUNT);
      if (this.accountBlockPublicAccess === undefined) {
        throw new S3ControlServiceException({
          name: 'NoSuchPublicAccessBlockConfiguration',
          $fault: 'client',
          $metadata: { httpStatusCode: 404 },
          message: 'The public access block configuration was not found',
        });
      }
      return { PublicAccessBlockConfiguration: { ...this.accountBlockPublicAccess } };
    });
    // The account has no access point of either kind (the moto suites judge real ones).
    this.s3ControlMock.on(ListAccessPointsCommand).callsFake(() => {
      this.failIfAsked('ListAccessPoints', ACCOUNT);
      return { AccessPointList: [] };
    });
    this.s3ControlMock.on(ListMultiRegionAccessPointsCommand).callsFake(() => {
      this.failIfAsked('ListMultiRegionAccessPoints', ACCOUNT);
      return { AccessPoints: [] };
    });
    this.s3ControlMock.on(PutAccountPublicAccessBlockCommand).callsFake((input) => {
      this.failIfAsked('PutAccountPublicAccessBlock', ACCOUNT);
      this.accountBlockPublicAccess = { ...input.PublicAccessBlockConfiguration };
      return {};
    });
    this.configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    this.snsMock.on(PublishCommand).resolves({ MessageId: 'message-1' });
    this.stsMock
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:role/guard` });
  }

  addBucket(name: string, bucket: FakeBucket): this {
    this.buckets.set(name, { grants: [OWNER_GRANT], owner: OWNER, ...bucket });
    return this;
  }

  /** Makes `operation` on `bucket` fail with `error` the next `times` calls. */
  failNext(operation: string, bucket: string, error: Error, times = 1): this {
    this.failures.set(`${operation} ${bucket}`, { error, times });
    return this;
  }

  failAlways(operation: string, bucket: string, error: Error): this {
    return this.failNext(operation, bucket, error, Number.POSITIVE_INFINITY);
  }

  handler(
    env: Record<string, string | undefined> = {},
    options: { newId?: () => string; now?: () => Date; pendingNoticeMinAgeMs?: number } = {},
  ): GuardHandler {
    let sequence = 0;
    return createHandler({
      s3: this.s3,
      s3Control: this.s3Control,
      config: this.config,
      sns: this.sns,
      sts: this.sts,
      logger: this.logger,
      now: options.now ?? (() => NOW),
      newId: options.newId ?? (() => `id${(sequence += 1).toString().padStart(6, '0')}`),
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN, ...env },
      isTrustedResponseUrl: isLoopbackOrCloudFormation,
      pendingNoticeMinAgeMs: options.pendingNoticeMinAgeMs,
    });
  }

  /**
   * Every operation sent to S3 and S3 Control, in the order sent: the SDK command's name without
   * "Command", S3 Control's prefixed `s3control:`.
   */
  operations(): string[] {
    const named = (stub: AnyStub, prefix: string): { callId: number; name: string }[] =>
      stub.calls().map((call) => ({
        // sinon numbers every call across all stubs; its typings leave the field out.
        callId: (call as unknown as { callId: number }).callId,
        name: `${prefix}${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`,
      }));
    return [...named(this.s3Mock, ''), ...named(this.s3ControlMock, 's3control:')]
      .sort((a, b) => a.callId - b.callId)
      .map((call) => call.name);
  }

  /**
   * Every operation sent to S3 and S3 Control, in the order sent, as {@link operations} names it, with the
   * bucket it named and the object key (or, for ListObjectsV2, the prefix).
   */
  sent(): SentOperation[] {
    const named = (stub: AnyStub, prefix: string): (SentOperation & { callId: number })[] =>
      stub.calls().map((call) => {
        const command = call.args[0] as unknown as {
          constructor: { name: string };
          input?: Record<string, unknown>;
        };
        const input = command.input ?? {};
        const key = typeof input.Key === 'string' ? input.Key : input.Prefix;
        return {
          callId: (call as unknown as { callId: number }).callId,
          name: `${prefix}${command.constructor.name.replace(/Command$/, '')}`,
          bucket: typeof input.Bucket === 'string' ? input.Bucket : undefined,
          key: typeof key === 'string' ? key : undefined,
          expectedBucketOwner:
            typeof input.ExpectedBucketOwner === 'string' ? input.ExpectedBucketOwner : undefined,
        };
      });
    return [...named(this.s3Mock, ''), ...named(this.s3ControlMock, 's3control:')]
      .sort((a, b) => a.callId - b.callId)
      .map(({ name, bucket, key, expectedBucketOwner }) =>
        expectedBucketOwner === undefined
          ? { name, bucket, key }
          : { name, bucket, key, expectedBucketOwner },
      );
  }

  /** The operations sent for one bucket (its Bucket parameter), in order. */
  operationsOn(bucket: string): string[] {
    return this.sent()
      .filter((operation) => operation.bucket === bucket)
      .map((operation) => operation.name);
  }

  /**
   * {@link operations} without the guard's bookkeeping in the evidence bucket (incident claims, the registry
   * ledger, pending notices), which every remediate-mode run with an evidence bucket adds around its work.
   */
  operationsBesideGuardRecords(): string[] {
    return this.sent()
      .filter((operation) => !isGuardRecordOperation(operation))
      .map((operation) => operation.name);
  }

  /** Every call made to any AWS client. */
  totalCalls(): number {
    return [this.s3Mock, this.s3ControlMock, this.configMock, this.snsMock, this.stsMock].reduce(
      (sum, stub) => sum + stub.calls().length,
      0,
    );
  }

  /** The evaluations sent, in order, flattened across batches. */
  evaluations(): {
    ComplianceResourceId?: string;
    ComplianceType?: string;
    Annotation?: string;
    OrderingTimestamp?: Date;
    ComplianceResourceType?: string;
  }[] {
    return this.configMock
      .commandCalls(PutEvaluationsCommand)
      .flatMap((call) => call.args[0].input.Evaluations ?? []);
  }

  /**
   * The notices published: subject and message, the message as an email subscriber reads it (with
   * `MessageStructure: 'json'`, the `email` key, else `default`).
   */
  notices(): { subject: string; message: string }[] {
    return this.snsMock.commandCalls(PublishCommand).map((call) => ({
      subject: call.args[0].input.Subject ?? '',
      message: emailText(call.args[0].input),
    }));
  }

  /** The guard's own records under one prefix of the evidence bucket (`_incidents/`, ...), parsed, by key. */
  records(recordPrefix: string): Map<string, Record<string, unknown>> {
    const prefix = `${EVIDENCE_BUCKET}/${recordPrefix}`;
    return new Map(
      [...this.objects.entries()]
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, body]) => [
          name.slice(EVIDENCE_BUCKET.length + 1),
          JSON.parse(body) as Record<string, unknown>,
        ]),
    );
  }

  /** Evidence objects (not the guard's other records), parsed, by key. */
  evidence(): Map<string, Record<string, unknown>> {
    const prefix = `${EVIDENCE_BUCKET}/`;
    return new Map(
      [...this.objects.entries()]
        .filter(([name]) => name.startsWith(prefix))
        .filter(([name]) => !GUARD_RECORD_PREFIXES.some((record) => name.startsWith(`${prefix}${record}`)))
        .map(([name, body]) => [name.slice(prefix.length), JSON.parse(body) as Record<string, unknown>]),
    );
  }

  private withBucket<T>(
    operation: string,
    input: { Bucket: string; ExpectedBucketOwner?: string },
    run: (bucket: FakeBucket) => T,
  ): T {
    const name = input.Bucket;
    this.failIfAsked(operation, name);
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw s3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
    const expected = input.ExpectedBucketOwner;
    if (expected !== undefined && expected !== (bucket.accountId ?? ACCOUNT)) {
      throw s3Error('AccessDenied', 'Access Denied', 403);
    }
    return run(bucket);
  }

  private failIfAsked(operation: string, name: string): void {
    const failure = this.failures.get(`${operation} ${name}`);
    if (failure === undefined || failure.times <= 0) return;
    failure.times -= 1;
    throw failure.error;
  }
}

/** What an email subscriber gets of a Publish: its protocol's text when the message is structured. */
function emailText(input: { Message?: string; MessageStructure?: string }): string {
  if (input.MessageStructure !== 'json') return input.Message ?? '';
  const structured = JSON.parse(input.Message ?? '{}') as { default?: string; email?: string };
  return structured.email ?? structured.default ?? '';
}

/** Every Block Public Access setting off, as a bucket opened by hand has it. */
export const ALL_OFF: PublicAccessBlockConfiguration = {
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
};

export const MINUTE = 60_000;

/** The tests' clock, `offsetMs` from {@link NOW}. */
export function at(offsetMs: number): Date {
  return new Date(NOW.getTime() + offsetMs);
}

/** The two exemption tags. */
export function exemptionTags(reason: string, expires: string): Tag[] {
  return [
    { Key: 'registry-guard:public-exemption', Value: reason },
    { Key: 'registry-guard:exemption-expires', Value: expires },
  ];
}

/** The part of Lambda's context the guard reads, with the remaining time a test chooses. */
export function lambdaContext(remaining: () => number): InvocationContext {
  return {
    getRemainingTimeInMillis: remaining,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:registry-guard`,
    awsRequestId: 'test-request',
  };
}

/** Runs an invocation and keeps its outcome or error, so a test can go on after an expected failure. */
export async function settle(run: Promise<GuardResult>): Promise<GuardResult | Error> {
  try {
    return await run;
  } catch (error) {
    return error as Error;
  }
}

/** The notices published whose subject or message matches `pattern` (all of them without one). */
export function notices(account: FakeAccount, pattern?: RegExp): { subject: string; message: string }[] {
  return account
    .notices()
    .filter((notice) => pattern === undefined || pattern.test(`${notice.subject}\n${notice.message}`));
}
