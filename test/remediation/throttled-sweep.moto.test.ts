/**
 * Sweeps under throttling and across ListBuckets pages, over real HTTP: clients built with the guard's retry
 * strategy, through the fault proxy (which throttles a seeded share of S3 reads and pages ListBuckets the way
 * S3 does), to moto. Only Config's PutEvaluations is mocked (moto accepts it only in test mode).
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { createHandler, GuardDependencies } from '../../lib/remediation/handler';
import { listBucketNames, listBucketPage } from '../../lib/remediation/read/bucket-list';
import { GuardRetryStrategy, guardRetrySettings } from '../../lib/remediation/retry-strategy';
import { FaultProxy, FaultRule, s3Call, s3ErrorBody, s3Read, seededRandom } from '../support/fault-proxy';
import { liveBlockPublicAccess } from '../support/live-bucket';
import { pagedListBuckets } from '../support/list-buckets-paging';
import {
  motoAvailable,
  MotoServer,
  pointAwsAt,
  startMotoServer,
  useLoopbackHost,
} from '../support/moto-server';
import {
  ALL_OFF,
  ALL_ON,
  policyOf,
  publicStatement,
  RecordingLogger,
  REGISTRY_TAG,
  scheduledEvent,
} from './support';

const MOTO_AVAILABLE = motoAvailable();
const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('moto is not installed: skipping the throttled-sweep tests');

const EVIDENCE_BUCKET = 'registry-guard-evidence';
const SLOW_DOWN = { status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') };

describeWithMoto('sweeps across ListBuckets pages and under throttling (moto, through a fault proxy)', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let restoreEnvironment: () => void = () => undefined;
  /** Talks to moto directly: the owner's setup and the test's own reads. */
  let s3: S3Client;
  let sqs: SQSClient;
  let deps: GuardDependencies;
  /** The guard's S3 client's strategy, for what it did. */
  let s3Retries: GuardRetryStrategy;
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
    // The production clients' shape, each with its own retry strategy, pointed at the proxy by the environment.
    const s3Settings = guardRetrySettings('s3');
    s3Retries = s3Settings.retryStrategy;
    const s3Control = new S3ControlClient(guardRetrySettings('s3-control'));
    useLoopbackHost(s3Control);
    const config = new ConfigServiceClient(guardRetrySettings('config'));
    configMock = mockClient(config);
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    deps = {
      s3: new S3Client({ ...s3Settings, followRegionRedirects: true }),
      s3Control,
      config,
      sns: new SNSClient(guardRetrySettings('sns')),
      sts: new STSClient(guardRetrySettings('sts')),
    };
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

  function guard(): ReturnType<typeof createHandler> {
    return createHandler({
      ...deps,
      logger,
      env: { AWS_REGION: 'us-east-1', EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: topicArn },
    });
  }

  /** `quiet` private buckets and `drifted` registry buckets left open to the public. */
  async function createBuckets(quiet: number, drifted: readonly string[]): Promise<void> {
    for (let index = 0; index < quiet; index += 1) {
      await s3.send(new CreateBucketCommand({ Bucket: `quiet-${String(index).padStart(3, '0')}` }));
    }
    for (const bucket of drifted) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [REGISTRY_TAG] } }));
      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: ALL_OFF }),
      );
      await s3.send(
        new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf(publicStatement(bucket)) }),
      );
    }
  }

  /**
   * A share of every S3 read answered SlowDown, drawn from a fixed seed. The seeds used have no run of more
   * than four throttles in their first thousand draws: the sweep's last read is alone at the proxy and draws
   * consecutive values, so a seed with a long run there would test a persistently throttled read, which the
   * test of buckets that fail for good covers.
   */
  function throttleReads(share: number, seed: number): FaultRule {
    return proxy.add({
      matches: s3Read(),
      probability: share,
      random: seededRandom(seed),
      answer: SLOW_DOWN,
    });
  }

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

  function evaluated(): Map<string, { type?: string; annotation?: string }> {
    const verdicts = new Map<string, { type?: string; annotation?: string }>();
    for (const call of configMock.commandCalls(PutEvaluationsCommand)) {
      for (const evaluation of call.args[0].input.Evaluations ?? []) {
        verdicts.set(evaluation.ComplianceResourceId ?? '', {
          type: evaluation.ComplianceType,
          annotation: evaluation.Annotation,
        });
      }
    }
    return verdicts;
  }

  describe('ListBuckets pages', () => {
    test('moto 5.2.1 cuts ListBuckets at MaxBuckets and returns no ContinuationToken (why the proxy pages it)', async () => {
      await createBuckets(5, []);
      const output = await s3.send(new ListBucketsCommand({ MaxBuckets: 2 }));
      expect(output.Buckets).toHaveLength(2);
      expect(output.ContinuationToken).toBeUndefined();
    });

    test('listBucketNames asks for MaxBuckets on every call and follows ContinuationToken to the last page', async () => {
      await createBuckets(7, []);
      const paging = pagedListBuckets(moto.port);
      proxy.add(paging.rule);
      const names = await listBucketNames(deps.s3, 'us-east-1', 3);
      expect(names.sort()).toEqual(
        [EVIDENCE_BUCKET, ...Array.from({ length: 7 }, (_, index) => `quiet-00${index}`)].sort(),
      );
      expect(paging.calls.map((query) => query.get('max-buckets'))).toEqual(['3', '3', '3']);
      expect(paging.calls[0].get('continuation-token')).toBeNull();
      expect(paging.calls[1].get('continuation-token')).not.toBeNull();
      expect(paging.calls.every((query) => query.get('bucket-region') === 'us-east-1')).toBe(true);
    });

    test('listBucketPage returns one page and where the next starts; the last page has no token', async () => {
      await createBuckets(3, []);
      proxy.add(pagedListBuckets(moto.port).rule);
      const first = await listBucketPage(deps.s3, 'us-east-1', undefined, 3);
      expect(first.buckets).toHaveLength(3);
      expect(first.nextToken).toEqual(expect.any(String));
      const last = await listBucketPage(deps.s3, 'us-east-1', first.nextToken, 3);
      expect(last.buckets).toHaveLength(1);
      expect(last.nextToken).toBeUndefined();
    });

    test('the production page size reaches moto as max-buckets=1000', async () => {
      await createBuckets(2, []);
      const paging = pagedListBuckets(moto.port);
      proxy.add(paging.rule);
      expect(await listBucketNames(deps.s3, undefined)).toHaveLength(3);
      expect(paging.calls.map((query) => query.get('max-buckets'))).toEqual(['1000']);
    });
  });

  describe('30% of S3 reads answered SlowDown', () => {
    test('a 60-bucket sweep over three ListBuckets pages judges every bucket: none unverifiable, no digest, one page per drifted registry', async () => {
      const drifted = ['roll-1', 'roll-2'];
      await createBuckets(57, drifted);
      const throttle = throttleReads(0.3, 16);
      const paging = pagedListBuckets(moto.port, 25);
      proxy.add(paging.rule);

      const result = await guard()(scheduledEvent());

      expect(result.buckets).toHaveLength(60);
      expect(result.buckets.filter((outcome) => outcome.unverifiable !== undefined)).toEqual([]);
      expect(result.digested).toBe(0);
      expect(paging.calls.length).toBeGreaterThanOrEqual(3);
      const verdicts = evaluated();
      expect(verdicts.size).toBe(60);
      expect([...verdicts.values()].filter((verdict) => verdict.type === 'NON_COMPLIANT')).toHaveLength(2);
      for (const bucket of drifted) expect(await liveBlockPublicAccess(s3, bucket)).toEqual(ALL_ON);
      const subjects = (await drainNotices()).map((notice) => notice.Subject).sort();
      expect(subjects).toEqual([
        'registry-guard: closed non-compliant registry bucket roll-1',
        'registry-guard: closed non-compliant registry bucket roll-2',
      ]);
      // The throttling was real, and every throttled read was retried to an answer.
      expect(throttle.applied ?? 0).toBeGreaterThan(50);
      expect(s3Retries.stats().throttlingRetries).toBeGreaterThanOrEqual(throttle.applied ?? 0);
      expect(s3Retries.stats().exhausted).toBe(0);
    });

    test('two buckets that fail for good end in one digest naming each with its reason; the rest are judged', async () => {
      await createBuckets(56, ['roll-1']);
      await s3.send(new CreateBucketCommand({ Bucket: 'stuck' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'sealed' }));
      // Persistent faults first: the first matching rule applies.
      proxy.add({
        matches: s3Call('GET', 'stuck', 'acl'),
        answer: { status: 500, body: s3ErrorBody('InternalError', 'We encountered an internal error.') },
      });
      proxy.add({
        matches: s3Call('GET', 'sealed', 'tagging'),
        answer: {
          status: 403,
          body: s3ErrorBody('AccessDenied', 'explicit deny in a service control policy'),
        },
      });
      throttleReads(0.3, 17);
      proxy.add(pagedListBuckets(moto.port, 25).rule);

      const result = await guard()(scheduledEvent());

      const unverifiable = result.buckets.filter((outcome) => outcome.unverifiable !== undefined);
      expect(unverifiable.map((outcome) => outcome.bucket).sort()).toEqual(['sealed', 'stuck']);
      expect(result.digested).toBe(2);
      const verdicts = evaluated();
      expect(verdicts.size).toBe(60);
      expect(verdicts.get('stuck')).toEqual({
        type: 'NON_COMPLIANT',
        annotation:
          'Could not be verified, so treated as non-compliant: GetBucketAcl failed with InternalError: We encountered an internal error..',
      });
      expect(verdicts.get('sealed')?.type).toBe('NON_COMPLIANT');

      const notices = await drainNotices();
      expect(notices.map((notice) => notice.Subject).sort()).toEqual([
        'registry-guard: COULD NOT VERIFY 2 buckets (sweep, account 123456789012, us-east-1)',
        'registry-guard: closed non-compliant registry bucket roll-1',
      ]);
      const digest = notices.find((notice) => notice.Subject.includes('COULD NOT VERIFY'));
      expect(digest?.Message).toContain(
        '- sealed: GetBucketTagging failed with AccessDenied: explicit deny in a service control policy',
      );
      expect(digest?.Message).toContain(
        '- stuck: GetBucketAcl failed with InternalError: We encountered an internal error.',
      );
      expect(result.noticesSent).toBe(2);
    });
  });
});
