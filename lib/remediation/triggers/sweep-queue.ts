/**
 * The sweep queue's messages, as Lambda's event source mapping hands them over: each record is checked
 * (from the configured queue, a well-formed sweep message, for this guard's Region, of a sweep this guard
 * started with that result token) and then handled on its own. A record that fails, for any reason, is
 * reported in `batchItemFailures`, so SQS delivers it again alone and, after its last receive, moves it to
 * the dead-letter queue, whose alarm pages; the other records are unaffected. Nothing is a silent pass.
 */
import { describeError } from '../aws-errors';
import { InvalidEventError } from '../errors';
import { GuardResult, RunReport, RunReportOptions } from '../report/run-report';
import { RunContext } from '../run-context';
import { GuardSettings } from '../settings';
import {
  onAccessPointPageMessage,
  onBatchMessage,
  onFinishMessage,
  onPageMessage,
  sweepRecordsBucket,
  SweepTuning,
} from '../sweep/fan-out';
import { accessPointScopesOf } from '../sweep/access-point-pages';
import { parseSweepMessage, SweepMessage } from '../sweep/messages';
import { isSweepQueueArn, SweepQueue } from '../sweep/sweep-queue';
import { sha256, sweepStartMismatch } from '../sweep/sweep-records';

/** An ordering timestamp this far in the future is refused: Config keeps the latest-ordered evaluation. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Sweeps whose start a container remembers having checked. */
const MAX_REMEMBERED_SWEEPS = 64;

/** The fields of an SQS record the guard reads. */
interface SqsRecordFields {
  readonly messageId?: unknown;
  readonly body?: unknown;
  readonly eventSource?: unknown;
  readonly eventSourceARN?: unknown;
  readonly attributes?: { readonly ApproximateReceiveCount?: unknown };
}

/**
 * True for an event Lambda's SQS event source mapping sends: `Records` whose `eventSource` is `aws:sqs`.
 *
 * @example
 * isSqsEvent({ Records: [{ eventSource: 'aws:sqs', messageId: '1', body: '{}' }] }); // true
 */
export function isSqsEvent(event: unknown): event is { Records: unknown[] } {
  if (event === null || typeof event !== 'object') return false;
  const records = (event as { Records?: unknown }).Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.some(
      (record) =>
        record !== null &&
        typeof record === 'object' &&
        (record as SqsRecordFields).eventSource === 'aws:sqs',
    )
  );
}

/** What the consumer needs from the handler. */
export interface SweepQueueConsumer {
  readonly settings: GuardSettings;
  /** The queue SWEEP_QUEUE_URL names; undefined when unset. */
  readonly queue: SweepQueue | undefined;
  /** The guard's Region: a message for another is refused. */
  readonly region: string | undefined;
  readonly tuning: SweepTuning;
  readonly reportOptions: RunReportOptions;
  /** A fresh run context for one record, named by what it does. */
  readonly runFor: (trigger: string) => RunContext;
  readonly logger: RunContext['logger'];
  readonly now: () => Date;
  /** Sweeps already checked against their start record, kept by the handler for the container's life. */
  readonly checkedSweeps: Set<string>;
}

/**
 * Handles every record of an SQS event, one after the other, and says which failed.
 *
 * @example
 * const result = await onSweepQueueEvent(event.Records, consumer);
 * result.batchItemFailures; // [] when every record was handled
 */
export async function onSweepQueueEvent(
  records: readonly unknown[],
  consumer: SweepQueueConsumer,
): Promise<GuardResult> {
  const results: GuardResult[] = [];
  const failures: { itemIdentifier: string }[] = [];
  for (const raw of records) {
    const record = (raw !== null && typeof raw === 'object' ? raw : {}) as SqsRecordFields;
    const messageId = typeof record.messageId === 'string' ? record.messageId : '';
    const attributes = {
      messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      eventSourceArn: record.eventSourceARN,
    };
    let message: SweepMessage | undefined;
    try {
      message = acceptRecord(record, consumer);
      results.push(await handleMessage(message, consumer));
    } catch (error) {
      // An empty identifier makes Lambda fail the whole batch: right for a record it cannot name.
      failures.push({ itemIdentifier: messageId });
      const refused = error instanceof InvalidEventError;
      consumer.logger.error(
        refused
          ? `Sweep message refused, nothing read or changed: ${error.problem}`
          : `Sweep message failed, SQS delivers it again: ${describeError(error)}`,
        {
          ...attributes,
          sweepId: message?.sweepId,
          kind: message?.kind,
          batchId: message?.kind === 'batch' ? message.batchId : undefined,
          error: describeError(error),
        },
      );
    }
  }
  return combine(consumer.settings, records.length, results, failures);
}

/**
 * The message a record carries, when the record may act at all.
 *
 * @throws InvalidEventError naming why not.
 */
function acceptRecord(record: SqsRecordFields, consumer: SweepQueueConsumer): SweepMessage {
  if (record.eventSource !== 'aws:sqs') {
    throw new InvalidEventError(`record eventSource ${JSON.stringify(record.eventSource)} is not aws:sqs`);
  }
  if (typeof record.messageId !== 'string' || record.messageId === '') {
    throw new InvalidEventError('record messageId is missing');
  }
  if (consumer.queue === undefined) {
    throw new InvalidEventError(
      'SWEEP_QUEUE_URL is not set, so this function consumes no sweep queue',
      'Remove the event source mapping, or set SWEEP_QUEUE_URL to its queue.',
    );
  }
  if (!isSweepQueueArn(record.eventSourceARN, consumer.queue.url, consumer.region)) {
    throw new InvalidEventError(
      `record eventSourceARN ${JSON.stringify(record.eventSourceARN)} is not the sweep queue ${consumer.queue.url}`,
      'Only the sweep queue may invoke the guard with SQS records: find who invoked it (CloudTrail Invoke) or which mapping points at another queue.',
    );
  }
  if (typeof record.body !== 'string') throw new InvalidEventError('record body is not a string');
  const message = parseSweepMessage(record.body);
  if (message.region !== consumer.region) {
    throw new InvalidEventError(
      `sweep message: region ${message.region ?? 'none'} is not the guard's (${consumer.region ?? 'none'})`,
    );
  }
  if (message.kind === 'access-points' && !accessPointScopesOf(consumer.region).includes(message.scope)) {
    throw new InvalidEventError(
      `sweep message: ${message.scope} access points are not swept in ${consumer.region ?? 'this Region'}`,
    );
  }
  if (message.orderingTimestamp.getTime() > consumer.now().getTime() + MAX_CLOCK_SKEW_MS) {
    throw new InvalidEventError(
      `sweep message: orderingTimestamp ${message.orderingTimestamp.toISOString()} is in the future`,
    );
  }
  return message;
}

async function handleMessage(message: SweepMessage, consumer: SweepQueueConsumer): Promise<GuardResult> {
  const queue = consumer.queue as SweepQueue;
  const rule = message.configRuleName === undefined ? '' : ` (rule ${message.configRuleName})`;
  const part =
    message.kind === 'batch'
      ? `batch ${message.batchId}`
      : message.kind === 'page'
        ? `page ${message.pageIndex}`
        : message.kind === 'access-points'
          ? `${message.scope} access points page ${message.pageIndex}`
          : 'finish';
  const run = consumer.runFor(`AWS Config ScheduledNotification${rule}, sweep ${message.sweepId} ${part}`);
  await checkSweepStarted(run, message, consumer.checkedSweeps);
  const report = new RunReport(run, consumer.reportOptions);
  let afterDelivery: (() => Promise<void>) | undefined;
  switch (message.kind) {
    case 'page':
      await onPageMessage(run, message, queue, consumer.tuning);
      break;
    case 'batch':
      afterDelivery = await onBatchMessage(run, message, report, consumer.tuning);
      break;
    case 'finish':
      await onFinishMessage(run, message, queue, report, consumer.tuning);
      break;
    case 'access-points':
      await onAccessPointPageMessage(run, message, queue, report, consumer.tuning);
      break;
  }
  const result = await report.finish();
  await afterDelivery?.();
  return result;
}

/**
 * With sweep records, a message acts only for a sweep this guard started, with the token Config gave it:
 * whoever may send to the queue cannot start a sweep nor carry a token of their own.
 *
 * @throws InvalidEventError when the sweep was not started so; the read's own error when it failed.
 */
async function checkSweepStarted(
  run: RunContext,
  message: SweepMessage,
  checked: Set<string>,
): Promise<void> {
  const recordsBucket = sweepRecordsBucket(run);
  if (recordsBucket === undefined) return;
  const key = [
    message.sweepId,
    sha256(message.resultToken),
    message.orderingTimestamp.toISOString(),
    message.region ?? '',
  ].join('|');
  if (checked.has(key)) return;
  const mismatch = await sweepStartMismatch(run.s3, recordsBucket, message);
  if (mismatch !== undefined) throw new InvalidEventError(`sweep message: ${mismatch}`);
  if (checked.size >= MAX_REMEMBERED_SWEEPS) checked.clear();
  checked.add(key);
}

/** One result for the invocation: what every record did, and which failed. */
function combine(
  settings: GuardSettings,
  records: number,
  results: readonly GuardResult[],
  failures: readonly { itemIdentifier: string }[],
): GuardResult {
  return {
    trigger: `SQS sweep queue (${records} record${records === 1 ? '' : 's'})`,
    mode: settings.mode,
    buckets: results.flatMap((result) => result.buckets),
    evaluationsSent: results.reduce((sum, result) => sum + result.evaluationsSent, 0),
    noticesSent: results.reduce((sum, result) => sum + result.noticesSent, 0),
    digested: results.some((result) => result.digested !== undefined)
      ? results.reduce((sum, result) => sum + (result.digested ?? 0), 0)
      : undefined,
    securityHub: results.some((result) => result.securityHub !== undefined)
      ? {
          imported: results.reduce((sum, result) => sum + (result.securityHub?.imported ?? 0), 0),
          resolved: results.reduce((sum, result) => sum + (result.securityHub?.resolved ?? 0), 0),
          failed: results.reduce((sum, result) => sum + (result.securityHub?.failed ?? 0), 0),
        }
      : undefined,
    batchItemFailures: failures,
  };
}
