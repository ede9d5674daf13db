/**
 * The sweep fanned out through the sweep queue (issue 15), against the in-memory S3 of support.ts and the
 * in-memory queue of sweep-support.ts.
 */
import { PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { ConfigServiceServiceException } from '@aws-sdk/client-config-service';
import { GetBucketAclCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createHandler } from '../../lib/remediation/handler';
import {
  encodeSweepMessage,
  MAX_BUCKETS_PER_BATCH_MESSAGE,
  parseSweepMessage,
  SWEEP_MESSAGE_SCHEMA,
} from '../../lib/remediation/sweep/messages';
import { isSweepQueueArn, queueNameOf } from '../../lib/remediation/sweep/sweep-queue';
import {
  ALL_ON,
  cloudTrailBucketEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  lambdaContext,
  NOW,
  policyOf,
  publicStatement,
  REGION,
  s3Error,
  scheduledEvent,
  TOPIC_ARN,
} from './support';
import { drain, fannedOutHandler, MemoryQueue, QUEUE_ARN, QUEUE_URL, sqsRecord } from './sweep-support';

const TOKEN = 'eyJlbmNyeXB0ZWREYXRhIjpbOTksMTAwXX0=';

/** An account of `count` compliant buckets `b-000`..., plus the evidence bucket. */
function accountWith(count: number): FakeAccount {
  const account = new FakeAccount();
  for (let index = 0; index < count; index += 1) {
    account.addBucket(`b-${String(index).padStart(3, '0')}`, { blockPublicAccess: ALL_ON });
  }
  return account;
}

/** Evaluations Config accepted, per bucket: how many times each was evaluated. */
function evaluationCounts(account: FakeAccount): Map<string, number> {
  const counts = new Map<string, number>();
  for (const evaluation of account.evaluations()) {
    const bucket = evaluation.ComplianceResourceId ?? '';
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return counts;
}

function sweptBuckets(account: FakeAccount): string[] {
  return [...account.buckets.keys()].sort();
}

describe('ScheduledNotification with SWEEP_QUEUE_URL', () => {
  test('queues only the first pages (buckets, access points) and records the sweep: no bucket is read, no evaluation sent', async () => {
    const account = accountWith(5);
    const queue = new MemoryQueue();
    const result = await fannedOutHandler(account, queue)(
      scheduledEvent(),
      lambdaContext(() => 280_000),
    );

    expect(queue.sent).toEqual([
      expect.objectContaining({
        schema: SWEEP_MESSAGE_SCHEMA,
        kind: 'page',
        pageIndex: 0,
        batchesBefore: 0,
        resultToken: TOKEN,
        orderingTimestamp: '2026-11-25T03:00:00.000Z',
        region: REGION,
        sweepId: expect.stringMatching(/^20261125T030000Z-[0-9a-f]{8}$/),
      }),
      // Multi-Region Access Points only from us-west-2, where S3 routes their control calls.
      expect.objectContaining({ kind: 'access-points', scope: 'regional', pageIndex: 0, resultToken: TOKEN }),
    ]);
    expect(queue.sent[1].sweepId).toBe(queue.sent[0].sweepId);
    expect(account.s3Mock.commandCalls(ListBucketsCommand)).toHaveLength(0);
    expect(account.s3Mock.commandCalls(GetBucketAclCommand)).toHaveLength(0);
    expect(account.evaluations()).toEqual([]);
    expect(result.buckets).toEqual([]);
    const started = [...account.records('_sweep/').entries()];
    expect(started).toHaveLength(1);
    expect(started[0][0]).toBe(`_sweep/${String(queue.sent[0].sweepId)}/started.json`);
    // The token itself stays in the queue; the record keeps its hash.
    expect(JSON.stringify(started[0][1])).not.toContain(TOKEN);
  });

  test('the same ScheduledNotification delivered twice starts the same sweep id', async () => {
    const account = accountWith(1);
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue);
    await handler(scheduledEvent());
    await handler(scheduledEvent());
    expect(queue.sent.map((message) => message.kind)).toEqual([
      'page',
      'access-points',
      'page',
      'access-points',
    ]);
    expect(queue.sent[0].sweepId).toBe(queue.sent[2].sweepId);
  });
});

describe('fan-out: pages, batches and the finish', () => {
  test('across several ListBuckets pages every bucket is judged exactly once, with the sweep’s token and time', async () => {
    const account = accountWith(45);
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    account.listPageSize = 10;
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 4 });

    await handler(scheduledEvent());
    const drained = await drain(handler, queue);

    expect(drained.failedReceives).toEqual([]);
    const counts = evaluationCounts(account);
    expect([...counts.keys()].sort()).toEqual(sweptBuckets(account));
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    // 47 buckets in pages of 10: five ListBuckets calls, each one page message.
    expect(account.s3Mock.commandCalls(ListBucketsCommand)).toHaveLength(5);
    expect(queue.sentOfKind('page')).toHaveLength(5);
    // Batches of at most 4 within a page of 10: 3 per full page, 2 for the last (7 buckets).
    expect(queue.sentOfKind('batch')).toHaveLength(14);
    expect(queue.sentOfKind('batch').every((batch) => (batch.buckets as string[]).length <= 4)).toBe(true);
    const calls = account.configMock.commandCalls(PutEvaluationsCommand).map((call) => call.args[0].input);
    expect(calls.every((input) => input.ResultToken === TOKEN)).toBe(true);
    expect(calls.every((input) => (input.Evaluations ?? []).length <= 100)).toBe(true);
    expect(
      account.evaluations().every((evaluation) => evaluation.OrderingTimestamp?.getTime() === NOW.getTime()),
    ).toBe(true);
    expect(account.buckets.get('open-data')?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.notices().map((notice) => notice.subject)).toEqual([
      'registry-guard: closed non-compliant bucket open-data',
    ]);
    const sweepId = String(queue.sent[0].sweepId);
    expect(
      account.records(`_sweep/${sweepId}/listed.json`).get(`_sweep/${sweepId}/listed.json`),
    ).toMatchObject({
      batches: 14,
      pages: 5,
    });
    expect(account.records(`_sweep/${sweepId}/done/`).size).toBe(14);
  });

  test('the registry ledger is listed once per batch, the account’s Block Public Access read once per batch', async () => {
    const account = accountWith(12);
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 5 });
    await handler(scheduledEvent());
    await drain(handler, queue);
    const ledgerListings = account
      .sent()
      .filter((operation) => operation.name === 'ListObjectsV2' && operation.key === '_registries/');
    expect(ledgerListings).toHaveLength(3);
    expect(account.operations().filter((name) => name === 's3control:GetPublicAccessBlock')).toHaveLength(3);
  });

  test('buckets that could not be verified, in different batches, are one digest for the sweep', async () => {
    const account = accountWith(12);
    for (const bucket of ['b-001', 'b-006', 'b-011']) {
      account.failAlways(
        'GetBucketAcl',
        bucket,
        s3Error('SlowDown', 'Please reduce your request rate.', 503),
      );
    }
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 4 });
    await handler(scheduledEvent());
    const drained = await drain(handler, queue);

    expect(drained.failedReceives).toEqual([]);
    const subjects = account.notices().map((notice) => notice.subject);
    expect(subjects).toEqual([
      `registry-guard: COULD NOT VERIFY 3 buckets (sweep, account 123456789012, ${REGION})`,
    ]);
    const digest = account.notices()[0].message;
    for (const bucket of ['b-001', 'b-006', 'b-011']) expect(digest).toContain(`- ${bucket}: GetBucketAcl`);
    expect(digest).toContain(`sweep ${String(queue.sent[0].sweepId)}`);
    expect(evaluationCounts(account).get('b-006')).toBe(1);
  });

  test('without an evidence bucket each batch sends its own digest (nowhere to gather them)', async () => {
    const account = accountWith(8);
    for (const bucket of ['b-001', 'b-006']) {
      account.failAlways(
        'GetBucketAcl',
        bucket,
        s3Error('SlowDown', 'Please reduce your request rate.', 503),
      );
    }
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, { EVIDENCE_BUCKET: undefined }, { batchSize: 4 });
    await handler(scheduledEvent());
    await drain(handler, queue);
    expect(queue.sentOfKind('finish')).toEqual([]);
    expect(account.notices().map((notice) => notice.subject)).toEqual([
      `registry-guard: COULD NOT VERIFY 1 bucket (sweep, account 123456789012, ${REGION})`,
      `registry-guard: COULD NOT VERIFY 1 bucket (sweep, account 123456789012, ${REGION})`,
    ]);
  });

  test('a batch whose evaluations fail is reported in batchItemFailures and succeeds on its retry alone', async () => {
    const account = accountWith(9);
    const queue = new MemoryQueue();
    const accepted: string[] = [];
    let calls = 0;
    account.configMock.on(PutEvaluationsCommand).callsFake((input) => {
      calls += 1;
      if (calls === 2) throw new Error('ServiceUnavailable: Config is having a bad day');
      accepted.push(
        ...(input.Evaluations ?? []).map(
          (evaluation: { ComplianceResourceId?: string }) => evaluation.ComplianceResourceId ?? '',
        ),
      );
      return { FailedEvaluations: [] };
    });
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 4 });
    await handler(scheduledEvent());
    const drained = await drain(handler, queue);

    expect(drained.failedReceives).toHaveLength(1);
    const failed = queue.sent.find((message) => message.kind === 'batch' && message.batchId === 'p0-b1');
    expect(failed).toBeDefined();
    expect(queue.deadLetters).toEqual([]);
    // Every bucket accepted exactly once: the failed batch was retried alone, and the others not again.
    expect(accepted.sort()).toEqual(sweptBuckets(account));
    expect(account.notices()).toEqual([]);
  });

  test('SendMessageBatch entries answered Failed are sent again', async () => {
    const account = accountWith(30);
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 2 });
    await handler(scheduledEvent());
    queue.failEntries = 3;
    const drained = await drain(handler, queue);
    expect(drained.failedReceives).toEqual([]);
    expect([...evaluationCounts(account).values()].every((count) => count === 1)).toBe(true);
    expect(evaluationCounts(account).size).toBe(31);
  });

  test('a page whose batches cannot be queued fails, and is delivered again', async () => {
    const account = accountWith(6);
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 3 });
    await handler(scheduledEvent());
    // Three attempts of the page's entries all answered Failed: the page message fails.
    queue.failEntries = 3 * 3;
    const drained = await drain(handler, queue);
    expect(drained.failedReceives).toHaveLength(1);
    expect(account.logger.errors().some((message) => /not sent after 3 attempts/.test(message))).toBe(true);
    expect(evaluationCounts(account).size).toBe(7);
  });

  test('a batch that never succeeds ends in the dead-letter queue; the finish then digests what is missing', async () => {
    const account = accountWith(8);
    const queue = new MemoryQueue();
    account.configMock.on(PutEvaluationsCommand).callsFake((input) => {
      const buckets = (input.Evaluations ?? []).map(
        (evaluation: { ComplianceResourceId?: string }) => evaluation.ComplianceResourceId,
      );
      if (buckets.includes('b-005')) throw new Error('ServiceUnavailable');
      return { FailedEvaluations: [] };
    });
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 3, maxStalledChecks: 2 });
    await handler(scheduledEvent());
    const drained = await drain(handler, queue);
    expect(
      queue.deadLetters.map((message) => (JSON.parse(message.body) as { batchId: string }).batchId),
    ).toEqual(['p0-b1']);
    expect(drained.failedReceives).toHaveLength(3);
    expect(account.notices().map((notice) => notice.subject)).toEqual([
      `registry-guard: sweep INCOMPLETE (account 123456789012, ${REGION})`,
    ]);
    expect(account.notices()[0].message).toMatch(/^SWEEP INCOMPLETE: 1 of 3 batches did not report/);
    expect(account.logger.errors()).toContain('Sweep finished INCOMPLETE: batches missing');
  });

  test('two finish messages for one sweep send one digest', async () => {
    const account = accountWith(4);
    account.failAlways('GetBucketAcl', 'b-002', s3Error('SlowDown', 'Please reduce your request rate.', 503));
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue);
    await handler(scheduledEvent());
    await drain(handler, queue);
    const finish = queue.sentOfKind('finish')[0];
    queue.push(JSON.stringify(finish));
    const again = await drain(handler, queue);
    expect(again.failedReceives).toEqual([]);
    expect(account.notices()).toHaveLength(1);
  });

  test('AWS Config refusing the result token pages once for the sweep; the batches succeed', async () => {
    const account = accountWith(10);
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    account.configMock.on(PutEvaluationsCommand).rejects(
      new ConfigServiceServiceException({
        name: 'InvalidResultTokenException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'The result token is invalid',
      }),
    );
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, {}, { batchSize: 4 });
    await handler(scheduledEvent());
    const drained = await drain(handler, queue);
    expect(drained.failedReceives).toEqual([]);
    expect(account.buckets.get('open-data')?.blockPublicAccess).toEqual(ALL_ON);
    const subjects = account.notices().map((notice) => notice.subject);
    expect(subjects.filter((subject) => /refused sweep/.test(subject))).toHaveLength(1);
    expect(subjects).toContain('registry-guard: closed non-compliant bucket open-data');
  });
  test('without sweep records, a refused token fails the batch like any delivery failure (the dead-letter alarm pages)', async () => {
    const account = accountWith(3);
    account.configMock.on(PutEvaluationsCommand).rejects(
      new ConfigServiceServiceException({
        name: 'InvalidResultTokenException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'The result token is invalid',
      }),
    );
    const queue = new MemoryQueue();
    const handler = fannedOutHandler(account, queue, { EVIDENCE_BUCKET: undefined });
    await handler(scheduledEvent());
    const drained = await drain(handler, queue);
    expect(queue.deadLetters).toHaveLength(1);
    expect(drained.failedReceives).toHaveLength(3);
  });
});

describe('SWEEP_QUEUE_URL', () => {
  test('a value that is not a queue URL is a warning, and the sweep runs in the one invocation', async () => {
    const account = accountWith(3);
    const queue = new MemoryQueue();
    const result = await fannedOutHandler(account, queue, { SWEEP_QUEUE_URL: 'registry-guard-sweep' })(
      scheduledEvent(),
    );
    expect(queue.sent).toEqual([]);
    expect(result.evaluationsSent).toBe(4);
    expect(
      account.logger.entries.some(
        (entry) =>
          entry.level === 'warn' &&
          /SWEEP_QUEUE_URL "registry-guard-sweep" is not an SQS queue URL/.test(entry.message),
      ),
    ).toBe(true);
  });
});

describe('sweep queue records: only the guard’s own sweep messages act', () => {
  async function startedSweep(): Promise<{
    account: FakeAccount;
    queue: MemoryQueue;
    page: Record<string, unknown>;
  }> {
    const account = accountWith(3);
    account.addBucket('victim', { policy: policyOf(publicStatement('victim')) });
    const queue = new MemoryQueue();
    await fannedOutHandler(account, queue)(scheduledEvent());
    const page = queue.sent[0];
    queue.messages.length = 0;
    return { account, queue, page };
  }

  test('a forged or malformed record is a failed item with an error logged; the good record beside it is handled', async () => {
    const { account, queue, page } = await startedSweep();
    const batch = { ...page, kind: 'batch', batchId: 'p0-b0', buckets: ['b-000'] };
    delete (batch as Record<string, unknown>).pageIndex;
    delete (batch as Record<string, unknown>).batchesBefore;
    const forgedBatch = { ...batch, buckets: ['victim'] };
    const records = [
      sqsRecord({ messageId: 'good', body: JSON.stringify(batch), delaySeconds: 0, receives: 1 }),
      sqsRecord(
        { messageId: 'other-queue', body: JSON.stringify(forgedBatch), delaySeconds: 0, receives: 1 },
        QUEUE_ARN.replace('registry-guard-sweep', 'attacker-queue'),
      ),
      sqsRecord(
        { messageId: 'other-account', body: JSON.stringify(forgedBatch), delaySeconds: 0, receives: 1 },
        QUEUE_ARN.replace('123456789012', '999999999999'),
      ),
      sqsRecord({ messageId: 'not-json', body: '{"schema":', delaySeconds: 0, receives: 1 }),
      sqsRecord({
        messageId: 'unknown-schema',
        body: JSON.stringify({ ...forgedBatch, schema: 'registry-guard/sweep-message/v9' }),
        delaySeconds: 0,
        receives: 1,
      }),
      sqsRecord({
        messageId: 'extra-field',
        body: JSON.stringify({ ...forgedBatch, act: 'delete' }),
        delaySeconds: 0,
        receives: 1,
      }),
      sqsRecord({
        messageId: 'forged-token',
        body: JSON.stringify({ ...forgedBatch, resultToken: 'forged' }),
        delaySeconds: 0,
        receives: 1,
      }),
      sqsRecord({
        messageId: 'never-started',
        body: JSON.stringify({ ...forgedBatch, sweepId: '20261125T020000Z-00000000' }),
        delaySeconds: 0,
        receives: 1,
      }),
      sqsRecord({
        messageId: 'future-time',
        body: JSON.stringify({ ...forgedBatch, orderingTimestamp: '2027-01-01T00:00:00.000Z' }),
        delaySeconds: 0,
        receives: 1,
      }),
      sqsRecord({
        messageId: 'too-many',
        body: JSON.stringify({
          ...forgedBatch,
          buckets: Array.from({ length: MAX_BUCKETS_PER_BATCH_MESSAGE + 1 }, (_, index) => `x-${index}`),
        }),
        delaySeconds: 0,
        receives: 1,
      }),
    ];
    const result = await fannedOutHandler(account, queue)(
      { Records: records },
      lambdaContext(() => 280_000),
    );

    expect(result.batchItemFailures?.map((item) => item.itemIdentifier)).toEqual(
      records.slice(1).map((record) => record.messageId),
    );
    expect(account.operationsOn('victim')).toEqual([]);
    expect(account.buckets.get('victim')?.blockPublicAccess).toBeUndefined();
    expect(account.evaluations().map((evaluation) => evaluation.ComplianceResourceId)).toEqual(['b-000']);
    const refusals = account.logger.entries.filter((entry) =>
      entry.message.startsWith('Sweep message refused'),
    );
    expect(refusals).toHaveLength(records.length - 1);
    expect(refusals.map((entry) => entry.message).join('\n')).toMatch(/not the sweep queue/);
    expect(refusals.map((entry) => entry.message).join('\n')).toMatch(/not the one AWS Config gave/);
    expect(refusals.map((entry) => entry.message).join('\n')).toMatch(
      /no sweep 20261125T020000Z-00000000 was started/,
    );
  });

  test('an SQS event reaching a guard without SWEEP_QUEUE_URL is refused, item by item', async () => {
    const { account, page } = await startedSweep();
    const queue = new MemoryQueue();
    const record = sqsRecord({ messageId: 'm1', body: JSON.stringify(page), delaySeconds: 0, receives: 1 });
    const result = await fannedOutHandler(account, queue, { SWEEP_QUEUE_URL: undefined })({
      Records: [record],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(account.logger.errors().some((message) => /SWEEP_QUEUE_URL is not set/.test(message))).toBe(true);
  });
});

describe('the SQS client is built only when a sweep sends', () => {
  test('a CloudTrail event never asks for it; a ScheduledNotification with a queue does', async () => {
    const account = new FakeAccount().addBucket('roll', { blockPublicAccess: ALL_ON });
    const queue = new MemoryQueue();
    const used = new Set<string>();
    const deps = {
      s3: account.s3,
      s3Control: account.s3Control,
      config: account.config,
      sns: account.sns,
      sts: account.sts,
      get sqs() {
        used.add('sqs');
        return queue.sqs;
      },
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN, SWEEP_QUEUE_URL: QUEUE_URL },
    };
    await createHandler(deps)(
      cloudTrailBucketEvent('PutBucketPolicy', 'roll'),
      lambdaContext(() => 60_000),
    );
    expect(used.has('sqs')).toBe(false);
    await createHandler(deps)(
      scheduledEvent(),
      lambdaContext(() => 60_000),
    );
    expect(used.has('sqs')).toBe(true);
    expect(queue.mock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });
});

describe('sweep messages', () => {
  const identity = {
    sweepId: '20261125T030000Z-0123abcd',
    resultToken: TOKEN,
    orderingTimestamp: NOW,
    region: REGION,
  };

  test('a message survives encoding and parsing unchanged', () => {
    const batch = { ...identity, kind: 'batch' as const, batchId: 'p3-b7', buckets: ['roll', 'census'] };
    expect(parseSweepMessage(encodeSweepMessage(batch))).toEqual({ ...batch, configRuleName: undefined });
    const page = {
      ...identity,
      kind: 'page' as const,
      pageIndex: 2,
      continuationToken: 'abc',
      batchesBefore: 80,
    };
    expect(parseSweepMessage(encodeSweepMessage(page))).toEqual({ ...page, configRuleName: undefined });
  });

  test.each([
    ['a bucket name with a slash', { buckets: ['a/b'] }, /buckets\[0\]/],
    ['an empty bucket list', { buckets: [] }, /not a non-empty list/],
    ['a sweep id of another shape', { sweepId: '../../x' }, /sweepId/],
    ['a batch id of another shape', { batchId: 'all' }, /batchId/],
    ['an unknown kind', { kind: 'delete' }, /kind "delete"/],
    ['a time that is not one', { orderingTimestamp: 'yesterday' }, /orderingTimestamp/],
    ['a region that is not one', { region: 'mars' }, /region/],
  ])('refuses %s', (_, change, problem) => {
    const body = JSON.parse(
      encodeSweepMessage({ ...identity, kind: 'batch', batchId: 'p0-b0', buckets: ['roll'] }),
    ) as Record<string, unknown>;
    expect(() => parseSweepMessage(JSON.stringify({ ...body, ...change }))).toThrow(problem);
  });

  test('queue URLs and ARNs: the same account, name and Region only', () => {
    expect(queueNameOf(QUEUE_URL)).toEqual({ accountId: '123456789012', name: 'registry-guard-sweep' });
    expect(queueNameOf('http://127.0.0.1:5000/123456789012/q')).toEqual({
      accountId: '123456789012',
      name: 'q',
    });
    expect(isSweepQueueArn(QUEUE_ARN, QUEUE_URL, REGION)).toBe(true);
    expect(isSweepQueueArn(QUEUE_ARN, QUEUE_URL, 'eu-west-1')).toBe(false);
    expect(isSweepQueueArn(`${QUEUE_ARN}-dlq`, QUEUE_URL, REGION)).toBe(false);
    expect(isSweepQueueArn(QUEUE_ARN.replace('aws:sqs', 'aws:sns'), QUEUE_URL, REGION)).toBe(false);
    expect(isSweepQueueArn(undefined, QUEUE_URL, REGION)).toBe(false);
  });
});
