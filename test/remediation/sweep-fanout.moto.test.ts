/**
 * The fanned-out sweep end to end over real HTTP: the production clients (`defaultDeps()`, SQS included)
 * against moto's S3 and SQS, through the fault proxy, which pages ListBuckets as S3 does. The test stands in
 * for Lambda's event source mapping: it receives from the sweep queue, hands each message to the handler as
 * an SQS event, deletes it when handled and makes it visible again when reported in batchItemFailures.
 * Only Config's PutEvaluations is mocked (moto accepts it only in test mode).
 */
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  CreateAccessPointCommand,
  GetAccessPointPolicyCommand,
  PutAccessPointPolicyCommand,
} from '@aws-sdk/client-s3-control';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { defaultDeps } from '../../lib/remediation/clients';
import { createHandler, GuardDependencies, GuardHandler } from '../../lib/remediation/handler';
import { GuardResult } from '../../lib/remediation/report/run-report';
import { ACCESS_POINT_PAGE_SIZE } from '../../lib/remediation/sweep/access-point-pages';
import { FaultProxy } from '../support/fault-proxy';
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
  ACCOUNT,
  ALL_OFF,
  ALL_ON,
  lambdaContext,
  policyOf,
  publicStatement,
  RecordingLogger,
  scheduledEvent,
} from './support';

const MOTO_AVAILABLE = motoAvailable();
const describeWithMoto = MOTO_AVAILABLE ? describe : describe.skip;
if (!MOTO_AVAILABLE) console.warn('moto is not installed: skipping the fanned-out sweep tests');

const EVIDENCE_BUCKET = 'registry-guard-evidence';

describeWithMoto('the sweep fanned out through SQS (moto, real HTTP)', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let restoreEnvironment: () => void = () => undefined;
  /** The test's own clients, straight to moto. */
  let s3: S3Client;
  let sqs: SQSClient;
  let deps: GuardDependencies;
  let configMock: AwsClientStub<ConfigServiceClient>;
  let logger: RecordingLogger;
  let topicArn: string;
  let inboxUrl: string;
  let sweepQueueUrl: string;
  let sweepQueueArn: string;

  beforeAll(async () => {
    moto = await startMotoServer();
    proxy = await new FaultProxy(moto.port).start();
    // The guard's clients go through the proxy; the test's own clients go straight to moto.
    restoreEnvironment = pointAwsAt(proxy.port);
    s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
    // Through the proxy, as the guard's own client: queue URLs then name the host every client uses.
    sqs = new SQSClient({});
  });

  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
    restoreEnvironment();
  });

  beforeEach(async () => {
    await moto.reset();
    proxy.clear();
    // Pages of 5, so a dozen buckets take several ListBuckets pages (moto alone does not page).
    proxy.add(pagedListBuckets(moto.port, 5).rule);
    const production = defaultDeps();
    useLoopbackHost(production.s3Control);
    const config = new ConfigServiceClient({});
    configMock = mockClient(config);
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    deps = { ...production, config };
    logger = new RecordingLogger();
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
    topicArn =
      (await deps.sns.send(new CreateTopicCommand({ Name: 'registry-guard-on-call' }))).TopicArn ?? '';
    inboxUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'on-call-inbox' }))).QueueUrl ?? '';
    await deps.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: await queueArn(inboxUrl) }),
    );
    sweepQueueUrl =
      (await sqs.send(new CreateQueueCommand({ QueueName: 'registry-guard-sweep' }))).QueueUrl ?? '';
    sweepQueueArn = await queueArn(sweepQueueUrl);
  });

  async function queueArn(url: string): Promise<string> {
    const output = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    return output.Attributes?.QueueArn ?? '';
  }

  function guard(): GuardHandler {
    return createHandler({
      ...deps,
      logger,
      env: {
        AWS_REGION: 'us-east-1',
        EVIDENCE_BUCKET,
        NOTIFY_TOPIC_ARN: topicArn,
        SWEEP_QUEUE_URL: sweepQueueUrl,
      },
      sweepTuning: { batchSize: 4, finishDelaySeconds: 0 },
    });
  }

  function asRecord(message: Message): Record<string, unknown> {
    return {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      attributes: message.Attributes ?? {},
      messageAttributes: {},
      md5OfBody: message.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: sweepQueueArn,
      awsRegion: 'us-east-1',
    };
  }

  /**
   * What the event source mapping does: receive one message, invoke, delete it when handled, make it
   * visible again at once when it failed (standing in for the visibility timeout running out).
   */
  async function consumeUntilEmpty(
    handler: GuardHandler,
  ): Promise<{ results: GuardResult[]; failed: string[]; kinds: string[] }> {
    const results: GuardResult[] = [];
    const failed: string[] = [];
    const kinds: string[] = [];
    for (let empty = 0; empty < 2 && results.length < 500;) {
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: sweepQueueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const message = output.Messages?.[0];
      if (message === undefined) {
        empty += 1;
        continue;
      }
      empty = 0;
      kinds.push(String((JSON.parse(message.Body ?? '{}') as { kind?: string }).kind));
      const result = await handler(
        { Records: [asRecord(message)] },
        lambdaContext(() => 280_000),
      );
      results.push(result);
      if ((result.batchItemFailures ?? []).some((item) => item.itemIdentifier === message.MessageId)) {
        failed.push(message.MessageId ?? '');
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: sweepQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      } else {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: sweepQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    return { results, failed, kinds };
  }

  async function notices(): Promise<{ Subject: string; Message: string }[]> {
    const output = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: inboxUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    return (output.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}'));
  }

  function acceptedEvaluations(accepted: string[]): void {
    configMock.on(PutEvaluationsCommand).callsFake((input) => {
      accepted.push(
        ...(input.Evaluations ?? []).map(
          (evaluation: { ComplianceResourceId?: string }) => evaluation.ComplianceResourceId ?? '',
        ),
      );
      return { FailedEvaluations: [] };
    });
  }

  test('pages listed, batches queued and consumed: every bucket judged once, the drifted one closed, one notice', async () => {
    const quiet = Array.from({ length: 12 }, (_, index) => `quiet-${String(index).padStart(2, '0')}`);
    for (const bucket of quiet) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'open-data', PublicAccessBlockConfiguration: ALL_OFF }),
    );
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: 'open-data', Policy: policyOf(publicStatement('open-data')) }),
    );
    const accepted: string[] = [];
    acceptedEvaluations(accepted);

    const started = await guard()(
      scheduledEvent(),
      lambdaContext(() => 280_000),
    );
    expect(started.buckets).toEqual([]);
    const { failed, kinds } = await consumeUntilEmpty(guard());

    expect(failed).toEqual([]);
    // 14 buckets in pages of 5: three pages; batches of at most 4 within a page: 2 + 2 + 1; then the finish.
    expect(kinds.filter((kind) => kind === 'page')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'batch')).toHaveLength(5);
    expect(kinds.filter((kind) => kind === 'finish')).toHaveLength(1);
    expect(accepted.sort()).toEqual([EVIDENCE_BUCKET, 'open-data', ...quiet].sort());
    const calls = configMock.commandCalls(PutEvaluationsCommand).map((call) => call.args[0].input);
    expect(calls.every((input) => input.ResultToken === 'eyJlbmNyeXB0ZWREYXRhIjpbOTksMTAwXX0=')).toBe(true);
    expect(await liveBlockPublicAccess(s3, 'open-data')).toEqual(ALL_ON);
    const received = await notices();
    expect(received.map((notice) => notice.Subject)).toEqual([
      'registry-guard: closed non-compliant bucket open-data',
    ]);
    expect(logger.entries.filter((entry) => entry.message === 'Sweep finished')).toHaveLength(1);
  });

  test('a batch that fails is reported in batchItemFailures and succeeds on its retry alone', async () => {
    for (let index = 0; index < 8; index += 1)
      await s3.send(new CreateBucketCommand({ Bucket: `b-${index}` }));
    const accepted: string[] = [];
    let failedOnce = false;
    configMock.on(PutEvaluationsCommand).callsFake((input) => {
      const buckets = (input.Evaluations ?? []).map(
        (evaluation: { ComplianceResourceId?: string }) => evaluation.ComplianceResourceId ?? '',
      );
      if (!failedOnce && buckets.includes('b-5')) {
        failedOnce = true;
        throw new Error('ServiceUnavailable: Config is having a bad day');
      }
      accepted.push(...buckets);
      return { FailedEvaluations: [] };
    });

    await guard()(
      scheduledEvent(),
      lambdaContext(() => 280_000),
    );
    const { failed, kinds } = await consumeUntilEmpty(guard());

    expect(failed).toHaveLength(1);
    // The retried batch is the only message handled twice.
    expect(kinds.filter((kind) => kind === 'batch')).toHaveLength(4);
    expect(accepted.sort()).toEqual(
      [EVIDENCE_BUCKET, ...Array.from({ length: 8 }, (_, index) => `b-${index}`)].sort(),
    );
    expect(
      logger.errors().some((message) => /Sweep message failed, SQS delivers it again/.test(message)),
    ).toBe(true);
  });

  test('access points are swept a page per message: a public one is closed, its bucket NON_COMPLIANT after its own evaluation', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    const names = Array.from(
      { length: ACCESS_POINT_PAGE_SIZE + 1 },
      (_, index) => `ap-${String(index).padStart(2, '0')}`,
    );
    for (const name of names) {
      await deps.s3Control.send(
        new CreateAccessPointCommand({
          AccountId: ACCOUNT,
          Name: name,
          Bucket: 'open-data',
          PublicAccessBlockConfiguration: ALL_OFF,
        }),
      );
    }
    const publicPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/ap-24/object/*`,
        },
      ],
    });
    await deps.s3Control.send(
      new PutAccessPointPolicyCommand({ AccountId: ACCOUNT, Name: 'ap-24', Policy: publicPolicy }),
    );
    const evaluations: { id: string; type: string; at: string }[] = [];
    configMock.on(PutEvaluationsCommand).callsFake((input) => {
      for (const evaluation of input.Evaluations ?? []) {
        evaluations.push({
          id: evaluation.ComplianceResourceId ?? '',
          type: evaluation.ComplianceType ?? '',
          at: new Date(evaluation.OrderingTimestamp ?? 0).toISOString(),
        });
      }
      return { FailedEvaluations: [] };
    });

    await guard()(
      scheduledEvent(),
      lambdaContext(() => 280_000),
    );
    const { failed, kinds } = await consumeUntilEmpty(guard());

    expect(failed).toEqual([]);
    // 25 access points in pages of 24: two messages, the second queued by the first.
    expect(kinds.filter((kind) => kind === 'access-points')).toHaveLength(2);
    await expect(
      deps.s3Control.send(new GetAccessPointPolicyCommand({ AccountId: ACCOUNT, Name: 'ap-24' })),
    ).rejects.toMatchObject({ name: 'NoSuchAccessPointPolicy' });
    expect(evaluations.filter((evaluation) => evaluation.id === 'open-data')).toEqual(
      expect.arrayContaining([
        { id: 'open-data', type: 'COMPLIANT', at: '2026-11-25T03:00:00.000Z' },
        { id: 'open-data', type: 'NON_COMPLIANT', at: '2026-11-25T03:00:00.001Z' },
      ]),
    );
    expect((await notices()).map((notice) => notice.Subject)).toEqual([
      'registry-guard: closed non-compliant bucket open-data',
    ]);
  });

  test('a forged and a malformed message on the queue are refused; nothing is read or changed', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'victim' }));
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'victim', PublicAccessBlockConfiguration: ALL_OFF }),
    );
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: 'victim', Policy: policyOf(publicStatement('victim')) }),
    );
    const forged = {
      schema: 'registry-guard/sweep-message/v1',
      kind: 'batch',
      sweepId: '20261125T030000Z-deadbeef',
      resultToken: 'forged',
      orderingTimestamp: '2026-11-25T03:00:00.000Z',
      region: 'us-east-1',
      batchId: 'p0-b0',
      buckets: ['victim'],
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: sweepQueueUrl, MessageBody: JSON.stringify(forged) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: sweepQueueUrl, MessageBody: 'not json' }));
    const output = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sweepQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const records = (output.Messages ?? []).map(asRecord);
    expect(records).toHaveLength(2);

    const result = await guard()(
      { Records: records },
      lambdaContext(() => 280_000),
    );

    expect(result.batchItemFailures?.map((item) => item.itemIdentifier).sort()).toEqual(
      records.map((record) => String(record.messageId)).sort(),
    );
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
    expect(await liveBlockPublicAccess(s3, 'victim')).toEqual(ALL_OFF);
    expect(logger.errors().filter((message) => message.startsWith('Sweep message refused'))).toHaveLength(2);
  });
});
