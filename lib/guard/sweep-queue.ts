/**
 * The sweep's work queue. A periodic sweep lists the account's buckets page by page and hands the pages and
 * batches of buckets to this queue, which the guard's own function consumes one message at a time: no
 * invocation holds more than one bounded batch, a batch that fails is retried alone, and one that keeps
 * failing ends in the guard's dead-letter queue, where the dead-letter alarm sees it.
 */
import { createHash } from 'crypto';
import { Aws, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HANDLER_TIMEOUT } from './handler-function';

/** Receives of one sweep message before SQS moves it to the dead-letter queue: the first try and two retries. */
export const SWEEP_MAX_RECEIVE_COUNT = 3;

/**
 * How long a sweep message stays invisible while an invocation works on it. AWS's guidance for an SQS event
 * source is at least six times the function's timeout: Lambda's poller retries a throttled invocation within
 * that time, and the message must not come back to another invocation meanwhile.
 */
export const SWEEP_VISIBILITY_TIMEOUT = Duration.seconds(HANDLER_TIMEOUT.toSeconds() * 6);

/**
 * The age of the oldest sweep message beyond which the sweep is stuck. A batch that keeps failing is
 * received three times, a visibility timeout apart, and then leaves for the dead-letter queue; one visibility
 * timeout past that, a message still waiting is not being received at all.
 */
export const SWEEP_STUCK_AFTER = Duration.seconds(
  SWEEP_VISIBILITY_TIMEOUT.toSeconds() * (SWEEP_MAX_RECEIVE_COUNT + 1),
);

/**
 * The sweep queue's ARN before the queue exists. The dead-letter queue names the sweep queue as the one
 * source it accepts, and the sweep queue names the dead-letter queue as its target: one of the two must be
 * known by name, or CloudFormation sees a cycle.
 *
 * @example
 * const deadLetterQueue = renderDeadLetterQueue(this, sweepQueueArn(this));
 */
export function sweepQueueArn(guard: Construct): string {
  return Stack.of(guard).formatArn({ service: 'sqs', resource: sweepQueueName(guard) });
}

/**
 * `registry-guard-sweep-<guard>-<stack>`: the stack id's UUID keeps apart the stack instances of one
 * template (a StackSet's in one account, or two deployments of one app), the hash of the guard's path two
 * guards of one stack. 66 characters, within SQS's 80.
 */
function sweepQueueName(guard: Construct): string {
  const stack = Stack.of(guard);
  const pathInStack = guard.node.scopes
    .slice(guard.node.scopes.indexOf(stack) + 1)
    .map((scope) => scope.node.id)
    .join('/');
  const guardHash = createHash('sha256').update(pathInStack).digest('hex').slice(0, 8);
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `registry-guard-sweep-${guardHash}-${stackUuid}`;
}

/**
 * Creates the sweep queue (construct id `SweepQueue`), named as {@link sweepQueueArn} says: encrypted with the
 * dead-letter queue's key, TLS-only, a message invisible for {@link SWEEP_VISIBILITY_TIMEOUT} while it is
 * worked on, kept a day (the next scheduled sweep starts afresh), and moved to the dead-letter queue after
 * {@link SWEEP_MAX_RECEIVE_COUNT} receives.
 *
 * @example
 * const sweepQueue = renderSweepQueue(this, deadLetterQueue);
 */
export function renderSweepQueue(guard: Construct, deadLetterQueue: sqs.IQueue): sqs.Queue {
  return new sqs.Queue(guard, 'SweepQueue', {
    queueName: sweepQueueName(guard),
    encryption: sqs.QueueEncryption.KMS,
    // One key for both queues: SQS moves a failed batch between them, and the role already uses it.
    encryptionMasterKey: deadLetterQueue.encryptionMasterKey,
    enforceSSL: true,
    visibilityTimeout: SWEEP_VISIBILITY_TIMEOUT,
    retentionPeriod: Duration.days(1),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: SWEEP_MAX_RECEIVE_COUNT },
  });
}

/** What the sweep queue's consumer connects. */
export interface SweepConsumerProps {
  readonly guardFunction: lambda.IFunction;
  readonly role: iam.Role;
  readonly sweepQueue: sqs.IQueue;
  /** Concurrent invocations the queue may start, below the function's reserved concurrency. */
  readonly maxConcurrency: number;
}

/**
 * Lets the function queue sweep work (`sqs:SendMessage` on the sweep queue only) and consume it through an
 * event source mapping (construct id `SweepQueueConsumer`): one message an invocation, failures reported per
 * message, at most `maxConcurrency` invocations at once so the fast path always finds one free. The role may
 * receive, delete and read the attributes of the sweep queue, which is what Lambda's poller needs; the
 * queue key's use was granted with the dead-letter queue.
 *
 * @example
 * renderSweepConsumer(this, { guardFunction, role, sweepQueue, maxConcurrency: 5 });
 */
export function renderSweepConsumer(guard: Construct, props: SweepConsumerProps): lambda.EventSourceMapping {
  props.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'QueueSweepBatches',
      actions: ['sqs:SendMessage'],
      resources: [props.sweepQueue.queueArn],
    }),
  );
  props.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ConsumeSweepBatches',
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      resources: [props.sweepQueue.queueArn],
    }),
  );
  const consumer = new lambda.EventSourceMapping(guard, 'SweepQueueConsumer', {
    target: props.guardFunction,
    eventSourceArn: props.sweepQueue.queueArn,
    batchSize: 1,
    reportBatchItemFailures: true,
    maxConcurrency: props.maxConcurrency,
  });
  // Lambda checks the role's permissions when it creates the mapping.
  consumer.node.addDependency(props.role);
  return consumer;
}
