/**
 * An in-memory sweep queue behind aws-sdk-client-mock, and a consumer that hands its messages to the handler
 * as Lambda's SQS event source mapping would: one record per invocation, a failed record received again,
 * and moved to a dead-letter list after its third receive.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { createHandler, GuardHandler } from '../../lib/remediation/handler';
import { GuardResult } from '../../lib/remediation/report/run-report';
import { SweepTuning } from '../../lib/remediation/sweep/fan-out';
import {
  ACCOUNT,
  EVIDENCE_BUCKET,
  FakeAccount,
  isLoopbackOrCloudFormation,
  lambdaContext,
  NOW,
  REGION,
  TOPIC_ARN,
} from './support';

export const QUEUE_NAME = 'registry-guard-sweep';
export const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${QUEUE_NAME}`;
export const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:${QUEUE_NAME}`;
/** SQS moves a message to the dead-letter queue after this many receives (the construct's maxReceiveCount). */
export const MAX_RECEIVES = 3;

/** A message as the in-memory queue holds it. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly delaySeconds: number;
  receives: number;
}

/** A standard queue in memory: first in, first out; a delay only sends a message to the back. */
export class MemoryQueue {
  readonly sqs = new SQSClient({ region: REGION });
  readonly mock: AwsClientStub<SQSClient> = mockClient(this.sqs);
  readonly messages: QueuedMessage[] = [];
  readonly deadLetters: QueuedMessage[] = [];
  /** Every message ever sent, parsed. */
  readonly sent: Record<string, unknown>[] = [];
  /** The next this-many entries are answered `Failed` (SQS's partial failure) instead of queued. */
  failEntries = 0;
  private sequence = 0;

  constructor() {
    this.mock.on(SendMessageBatchCommand).callsFake((input) => {
      const failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
      const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
      for (const entry of input.Entries ?? []) {
        if (this.failEntries > 0) {
          this.failEntries -= 1;
          failed.push({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'try again' });
          continue;
        }
        this.push(entry.MessageBody ?? '', entry.DelaySeconds ?? 0);
        successful.push({ Id: entry.Id, MessageId: `m${this.sequence}`, MD5OfMessageBody: '' });
      }
      return { Successful: successful, Failed: failed };
    });
  }

  /** Queues a raw body, as any sender with sqs:SendMessage could. */
  push(body: string, delaySeconds = 0): void {
    this.sequence += 1;
    this.messages.push({ messageId: `m${this.sequence}`, body, delaySeconds, receives: 0 });
    try {
      this.sent.push(JSON.parse(body) as Record<string, unknown>);
    } catch {
      this.sent.push({ unparsable: body });
    }
  }

  /** The sent messages of one kind. */
  sentOfKind(kind: string): Record<string, unknown>[] {
    return this.sent.filter((message) => message.kind === kind);
  }
}

/** One SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(message: QueuedMessage, eventSourceARN = QUEUE_ARN): Record<string, unknown> {
  return {
    messageId: message.messageId,
    receiptHandle: `handle-${message.messageId}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receives),
      SentTimestamp: String(NOW.getTime()),
      SenderId: 'AROAEXAMPLE:registry-guard',
      ApproximateFirstReceiveTimestamp: String(NOW.getTime()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: REGION,
  };
}

/** The handler of `account` with the sweep queue set. */
export function fannedOutHandler(
  account: FakeAccount,
  queue: MemoryQueue,
  env: Record<string, string | undefined> = {},
  tuning: Partial<SweepTuning> = {},
): GuardHandler {
  let sequence = 0;
  return createHandler({
    s3: account.s3,
    s3Control: account.s3Control,
    config: account.config,
    sns: account.sns,
    sts: account.sts,
    sqs: queue.sqs,
    logger: account.logger,
    now: () => NOW,
    newId: () => `id${(sequence += 1).toString().padStart(6, '0')}`,
    env: {
      AWS_REGION: REGION,
      EVIDENCE_BUCKET,
      NOTIFY_TOPIC_ARN: TOPIC_ARN,
      SWEEP_QUEUE_URL: QUEUE_URL,
      ...env,
    },
    isTrustedResponseUrl: isLoopbackOrCloudFormation,
    sweepTuning: { finishDelaySeconds: 0, ...tuning },
  });
}

/** What draining the queue did. */
export interface Drained {
  /** Every invocation's result, in order. */
  readonly results: GuardResult[];
  /** Message ids reported in batchItemFailures, in order (one per failed receive). */
  readonly failedReceives: string[];
  /** Invocations, one per record. */
  readonly invocations: number;
}

/**
 * Hands every message to the handler, one per invocation, until the queue is empty: a failed record goes to
 * the back (it comes back after its visibility timeout), and to `deadLetters` after {@link MAX_RECEIVES}.
 *
 * @throws when the handler throws (an SQS batch must never throw) or the queue does not empty.
 */
export async function drain(
  handler: GuardHandler,
  queue: MemoryQueue,
  maxInvocations = 10_000,
): Promise<Drained> {
  const results: GuardResult[] = [];
  const failedReceives: string[] = [];
  let invocations = 0;
  while (queue.messages.length > 0) {
    if (invocations >= maxInvocations) throw new Error(`queue not empty after ${maxInvocations} invocations`);
    const message = queue.messages.shift() as QueuedMessage;
    message.receives += 1;
    invocations += 1;
    const result = await handler(
      { Records: [sqsRecord(message)] },
      lambdaContext(() => 280_000),
    );
    results.push(result);
    const failed = (result.batchItemFailures ?? []).some((item) => item.itemIdentifier === message.messageId);
    if (failed) {
      failedReceives.push(message.messageId);
      if (message.receives >= MAX_RECEIVES) queue.deadLetters.push(message);
      else queue.messages.push(message);
    }
  }
  return { results, failedReceives, invocations };
}
