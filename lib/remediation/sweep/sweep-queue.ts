/**
 * Sending to the sweep queue, and telling whether an SQS record came from it.
 */
import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { describeError } from '../aws-errors';
import { sqsSdk } from '../sdk/on-demand';
import { encodeSweepMessage, SweepMessage } from './messages';

/** SendMessageBatch takes at most ten entries. */
export const SQS_BATCH_ENTRIES = 10;
/** SQS's longest delay: a finish that waits longer re-sends itself. */
export const MAX_DELAY_SECONDS = 900;
/** Entries SQS answered `Failed` (or a call that failed) are sent again this many times before giving up. */
const SEND_ATTEMPTS = 3;

/** The queue a sweep hands its work to. */
export interface SweepQueue {
  readonly sqs: SQSClient;
  readonly url: string;
}

/** Entries that could not be queued after every attempt: the caller fails so SQS or Config tries again. */
export class SweepQueueError extends Error {
  override readonly name = 'SweepQueueError';

  constructor(
    readonly queueUrl: string,
    readonly unsent: number,
    readonly reasons: readonly string[],
  ) {
    super(
      `Sweep queue ${queueUrl}: ${unsent} message(s) not sent after ${SEND_ATTEMPTS} attempts (${reasons.slice(0, 3).join('; ')}). ` +
        'Check the function role may sqs:SendMessage (and kms:GenerateDataKey on the queue key).',
    );
  }
}

/**
 * Sends messages ten to a call; entries SQS reports `Failed`, or whose call failed, are sent again (up to
 * {@link SEND_ATTEMPTS} times). Duplicates are harmless (judging is idempotent), so a partial failure is
 * retried without fear of sending twice.
 *
 * @throws SweepQueueError when any message could not be sent.
 * @example
 * await sendSweepMessages(queue, [pageMessage], 0);
 */
export async function sendSweepMessages(
  queue: SweepQueue,
  messages: readonly SweepMessage[],
  delaySeconds = 0,
): Promise<void> {
  const { SendMessageBatchCommand } = sqsSdk();
  let pending: SendMessageBatchRequestEntry[] = messages.map((message, index) => ({
    Id: `m${index}`,
    MessageBody: encodeSweepMessage(message),
    DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
  }));
  let reasons: string[] = [];
  for (let attempt = 1; attempt <= SEND_ATTEMPTS && pending.length > 0; attempt += 1) {
    reasons = [];
    const failed: SendMessageBatchRequestEntry[] = [];
    for (let start = 0; start < pending.length; start += SQS_BATCH_ENTRIES) {
      const entries = pending.slice(start, start + SQS_BATCH_ENTRIES);
      try {
        const output = await queue.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }),
        );
        for (const failure of output.Failed ?? []) {
          const entry = entries.find((candidate) => candidate.Id === failure.Id);
          if (entry !== undefined) failed.push(entry);
          reasons.push(`${failure.Code ?? 'Failed'}: ${failure.Message ?? ''}`.trim());
        }
      } catch (error) {
        failed.push(...entries);
        reasons.push(describeError(error));
      }
    }
    pending = failed;
  }
  if (pending.length > 0) throw new SweepQueueError(queue.url, pending.length, reasons);
}

/** The account and name a queue URL names (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export interface QueueName {
  readonly accountId: string;
  readonly name: string;
}

/**
 * Reads the account and queue name from a queue URL: its path is `/<account>/<name>` in every form SQS
 * hands out (and moto's).
 *
 * @example
 * queueNameOf('https://sqs.eu-west-1.amazonaws.com/123456789012/registry-guard-sweep');
 * // { accountId: '123456789012', name: 'registry-guard-sweep' }
 */
export function queueNameOf(queueUrl: string): QueueName | undefined {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    return undefined;
  }
  const match = /^\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)\/?$/.exec(url.pathname);
  return match === null ? undefined : { accountId: match[1], name: match[2] };
}

/**
 * True when `eventSourceArn` is the queue `queueUrl` names, in `region` when one is known: a record from
 * any other queue is not the sweep's, whatever its body says.
 *
 * @example
 * isSweepQueueArn('arn:aws:sqs:eu-west-1:123456789012:registry-guard-sweep', url, 'eu-west-1'); // true
 */
export function isSweepQueueArn(
  eventSourceArn: unknown,
  queueUrl: string,
  region: string | undefined,
): boolean {
  const queue = queueNameOf(queueUrl);
  if (queue === undefined || typeof eventSourceArn !== 'string') return false;
  const match = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):(.+)$/.exec(eventSourceArn);
  if (match === null) return false;
  const [, arnRegion, arnAccount, arnName] = match;
  return (
    arnAccount === queue.accountId && arnName === queue.name && (region === undefined || arnRegion === region)
  );
}
