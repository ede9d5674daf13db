/**
 * Notices are delivered at least once. Before a notice is published it is written to the evidence bucket
 * (`_pending-notices/`); once SNS has it, the record is deleted. When SNS or its key fails, the record stays
 * and the next invocation (Lambda's own retry a minute later, or any later event or sweep) publishes it.
 * Without a place to keep it (report mode writes nothing), a failed notice fails the invocation, and the
 * retry composes it again from the bucket, which report mode never changed.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError } from '../aws-errors';
import { RunContext } from '../run-context';
import { Notice, publishNotice } from './notice';

/**
 * A pending record younger than this may belong to an invocation that is publishing it right now: left
 * alone, so concurrent invocations do not page twice. Lambda retries a failed invocation after a minute.
 */
export const DEFAULT_PENDING_NOTICE_MIN_AGE_MS = 30_000;
/** Outstanding notices delivered per invocation, at most: a backlog drains over a few invocations. */
export const MAX_OUTSTANDING_PER_RUN = 50;

/** What a pending-notice record holds. */
export interface PendingNoticeRecord {
  readonly schema: 'registry-guard/pending-notice/v1';
  readonly firstAttemptAt: string;
  readonly trigger: string;
  readonly notice: Notice;
}

/** How one notice fared. */
export interface NoticeResult {
  readonly sent: boolean;
  /** Set when it was not delivered now: one line for the invocation's failure. */
  readonly failure?: string;
  /** Where it waits for the next invocation, when it does. */
  readonly pendingUri?: string;
}

/**
 * Publishes one notice, with a pending record around the publish when the run may write one.
 *
 * @example
 * const result = await sendNotice(run, notice, { bucket: 'roll' });
 * if (result.failure !== undefined) failures.push(result.failure);
 */
export async function sendNotice(
  run: RunContext,
  notice: Notice,
  keys: Readonly<Record<string, string>> = {},
): Promise<NoticeResult> {
  const topicArn = run.settings.notifyTopicArn;
  if (topicArn === undefined) {
    run.logger.warn('NOTIFY_TOPIC_ARN is not set: the notice is only logged', { ...keys, notice });
    return { sent: false };
  }
  const evidenceBucket = pendingBucket(run);
  let pendingKey: string | undefined;
  if (evidenceBucket !== undefined) {
    const key = `${EVIDENCE_PREFIXES.pendingNotices}${run.now().toISOString()}-${run.newId()}.json`;
    const record: PendingNoticeRecord = {
      schema: 'registry-guard/pending-notice/v1',
      firstAttemptAt: run.now().toISOString(),
      trigger: run.trigger,
      notice,
    };
    try {
      await run.s3.send(
        new PutObjectCommand({
          Bucket: evidenceBucket,
          Key: key,
          Body: `${JSON.stringify(record)}\n`,
          ContentType: 'application/json',
        }),
      );
      pendingKey = key;
    } catch (error) {
      run.logger.warn('Pending notice not recorded: publishing without a safety copy', {
        ...keys,
        error: describeError(error),
        subject: notice.subject,
      });
    }
  }
  try {
    await publishNotice(run.sns, topicArn, notice);
  } catch (error) {
    const where =
      pendingKey === undefined
        ? 'not kept anywhere: the full notice is in this log line'
        : `kept at s3://${evidenceBucket}/${pendingKey}: the next invocation delivers it`;
    const failure = `Publishing the notice "${notice.subject}" to ${topicArn} failed (${describeError(error)}); ${where}`;
    run.logger.error(failure, { ...keys, notice });
    return {
      sent: false,
      failure,
      pendingUri: pendingKey === undefined ? undefined : `s3://${evidenceBucket}/${pendingKey}`,
    };
  }
  if (pendingKey !== undefined && evidenceBucket !== undefined) {
    await deletePending(run, evidenceBucket, pendingKey);
  }
  return { sent: true };
}

/**
 * Publishes the notices earlier invocations could not, oldest first, each marked as delivered late.
 *
 * @returns how many were delivered, and one line per one that still could not be.
 * @example
 * const { delivered, failures } = await deliverOutstandingNotices(run, 30_000);
 */
export async function deliverOutstandingNotices(
  run: RunContext,
  minAgeMs: number = DEFAULT_PENDING_NOTICE_MIN_AGE_MS,
): Promise<{ delivered: number; failures: string[] }> {
  const evidenceBucket = pendingBucket(run);
  const topicArn = run.settings.notifyTopicArn;
  if (evidenceBucket === undefined || topicArn === undefined) return { delivered: 0, failures: [] };
  let keys: string[];
  try {
    const listing = await run.s3.send(
      new ListObjectsV2Command({
        Bucket: evidenceBucket,
        Prefix: EVIDENCE_PREFIXES.pendingNotices,
        MaxKeys: MAX_OUTSTANDING_PER_RUN,
      }),
    );
    const cutoff = run.now().getTime() - minAgeMs;
    keys = (listing.Contents ?? [])
      .filter((object) => object.LastModified === undefined || object.LastModified.getTime() <= cutoff)
      .map((object) => object.Key)
      .filter((key): key is string => key !== undefined && key.endsWith('.json'))
      .sort();
  } catch (error) {
    const failure = `Listing pending notices in s3://${evidenceBucket}/${EVIDENCE_PREFIXES.pendingNotices} failed: ${describeError(error)}`;
    run.logger.error(failure, {});
    return { delivered: 0, failures: [failure] };
  }
  let delivered = 0;
  const failures: string[] = [];
  for (const key of keys) {
    let record: PendingNoticeRecord;
    try {
      const output = await run.s3.send(new GetObjectCommand({ Bucket: evidenceBucket, Key: key }));
      record = parseRecord((await output.Body?.transformToString()) ?? '');
    } catch (error) {
      const failure = `Reading the pending notice s3://${evidenceBucket}/${key} failed: ${describeError(error)}`;
      run.logger.error(failure, {});
      failures.push(failure);
      continue;
    }
    const late: Notice = {
      ...record.notice,
      message:
        `${record.notice.message}\n\nDelivered late: the first attempt, at ${record.firstAttemptAt} ` +
        `(${record.trigger}), failed; this is the same notice, sent by ${run.trigger}.`,
    };
    try {
      await publishNotice(run.sns, topicArn, late);
    } catch (error) {
      const failure = `Publishing the pending notice s3://${evidenceBucket}/${key} failed again: ${describeError(error)}`;
      run.logger.error(failure, { notice: late });
      failures.push(failure);
      continue;
    }
    delivered += 1;
    run.logger.info('Delivered a pending notice', { key, subject: late.subject });
    await deletePending(run, evidenceBucket, key);
  }
  return { delivered, failures };
}

/** Pending records need writes to the evidence bucket: remediate mode with an evidence bucket only. */
function pendingBucket(run: RunContext): string | undefined {
  return run.settings.mode === 'remediate' ? run.settings.evidenceBucket : undefined;
}

async function deletePending(run: RunContext, evidenceBucket: string, key: string): Promise<void> {
  try {
    await run.s3.send(new DeleteObjectCommand({ Bucket: evidenceBucket, Key: key }));
  } catch (error) {
    // The notice went out; the record staying means it may go out once more, never that it is lost.
    run.logger.warn('Delivered notice still marked pending: it may be delivered twice', {
      key,
      error: describeError(error),
    });
  }
}

function parseRecord(text: string): PendingNoticeRecord {
  const parsed = JSON.parse(text) as Partial<PendingNoticeRecord>;
  const notice = parsed.notice;
  if (
    notice === undefined ||
    typeof notice.subject !== 'string' ||
    typeof notice.message !== 'string' ||
    notice.attributes === null ||
    typeof notice.attributes !== 'object'
  ) {
    throw new Error('it is not a pending notice record');
  }
  return {
    schema: 'registry-guard/pending-notice/v1',
    firstAttemptAt: typeof parsed.firstAttemptAt === 'string' ? parsed.firstAttemptAt : 'unknown',
    trigger: typeof parsed.trigger === 'string' ? parsed.trigger : 'unknown',
    notice: { subject: notice.subject, message: notice.message, attributes: notice.attributes },
  };
}
