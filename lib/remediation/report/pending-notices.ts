/**
 * Notices are delivered at least once. Before a notice is published it is written to the evidence bucket
 * (`_pending-notices/`); once SNS has it, the record is deleted. When SNS or its key fails, the record stays
 * and the next invocation (Lambda's own retry a minute later, or any later event or sweep) publishes it.
 * Without a place to keep it (report mode writes nothing), a failed notice fails the invocation, and the
 * retry composes it again from the bucket, which report mode never changed.
 *
 * At least once, but not once per invocation: a burst of events runs many invocations at the same moment,
 * and each would find the same record. A deliverer first leases the record (a conditional rewrite), so one
 * of them publishes it. A record that is not a pending notice at all is moved aside, once, rather than
 * failing every invocation after it and taking the place of the real notices behind it.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError, errorName } from '../aws-errors';
import { RunContext } from '../run-context';
import { parseChatNotice, withAddedParagraph } from './chatbot';
import { Notice } from './notice';
import { publishNotice } from './sns-message';

/**
 * A pending record younger than this may belong to an invocation that is publishing it right now: left
 * alone, so concurrent invocations do not page twice. Lambda retries a failed invocation after a minute.
 */
export const DEFAULT_PENDING_NOTICE_MIN_AGE_MS = 30_000;
/**
 * Outstanding records attempted per invocation, at most (published, failed or moved aside as unreadable):
 * a backlog drains over a few invocations. Records passed over (too young, leased) do not count.
 */
export const MAX_OUTSTANDING_PER_RUN = 50;
/**
 * How long a deliverer's lease on a pending record keeps other invocations off it: longer than a publish
 * with the SDK's retries takes, short enough that Lambda's retry a minute later finds a failed one free.
 */
export const PENDING_NOTICE_LEASE_MS = 60_000;

/** What a pending-notice record holds. */
export interface PendingNoticeRecord {
  readonly schema: 'registry-guard/pending-notice/v1';
  readonly firstAttemptAt: string;
  readonly trigger: string;
  readonly notice: Notice;
  /** When an invocation leased the record to publish it late; others leave it alone for the lease. */
  readonly deliveringAt?: string;
  /** The trigger of the invocation holding the lease, for the log of those that pass it over. */
  readonly deliveringBy?: string;
  /**
   * Set on the notice an invocation holds while it acts (`interrupted`): delivered only after this time,
   * when the invocation that wrote it stopped before replacing it with the real notice.
   */
  readonly holdUntil?: string;
  /** The notice says the invocation stopped before reporting what it did. */
  readonly interrupted?: boolean;
}

/** A held notice never waits longer than this, whatever its record says (a clock gone wrong). */
export const MAX_HOLD_MS = 15 * 60 * 1000;

/** How one notice fared. */
export interface NoticeResult {
  readonly sent: boolean;
  /** Set when it was not delivered now: one line for the invocation's failure. */
  readonly failure?: string;
  /** Where it waits for the next invocation, when it does. */
  readonly pendingUri?: string;
}

/**
 * Publishes one notice, with a pending record around the publish when the run may write one (the notice
 * held while acting, `heldKey`, is replaced by it).
 *
 * @example
 * const result = await sendNotice(run, notice, { bucket: 'roll' });
 * if (result.failure !== undefined) failures.push(result.failure);
 */
export async function sendNotice(
  run: RunContext,
  notice: Notice,
  keys: Readonly<Record<string, string>> = {},
  heldKey?: string,
): Promise<NoticeResult> {
  const topicArn = run.settings.notifyTopicArn;
  if (topicArn === undefined) {
    run.logger.warn('NOTIFY_TOPIC_ARN is not set: the notice is only logged', { ...keys, notice });
    return { sent: false };
  }
  const evidenceBucket = pendingBucket(run);
  let pendingKey: string | undefined;
  if (evidenceBucket !== undefined) {
    // The notice held while acting is replaced by the real one: one record, never two pages.
    const key = heldKey ?? newPendingKey(run);
    const record: PendingNoticeRecord = {
      schema: 'registry-guard/pending-notice/v1',
      firstAttemptAt: run.now().toISOString(),
      trigger: run.trigger,
      notice,
    };
    try {
      await putRecord(run, evidenceBucket, key, record);
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
  const delivered = pendingKey ?? heldKey;
  if (delivered !== undefined && evidenceBucket !== undefined)
    await deletePending(run, evidenceBucket, delivered);
  return { sent: true };
}

/**
 * Keeps, before the guard acts on a bucket, the notice on-call gets should the invocation stop before it
 * reports (a timeout, a crash): "interrupted, check the bucket". The report stage replaces it with the real
 * notice; if it never does, a later invocation delivers this one once `holdMs` has passed.
 *
 * @returns the record's key, or undefined when it could not be written (the guard acts anyway).
 * @example
 * const heldKey = await holdNotice(run, composeInterruptedNotice(...), 6 * 60_000);
 */
export async function holdNotice(
  run: RunContext,
  notice: Notice,
  holdMs: number,
): Promise<string | undefined> {
  const evidenceBucket = pendingBucket(run);
  if (evidenceBucket === undefined || run.settings.notifyTopicArn === undefined) return undefined;
  const key = newPendingKey(run);
  const record: PendingNoticeRecord = {
    schema: 'registry-guard/pending-notice/v1',
    firstAttemptAt: run.now().toISOString(),
    trigger: run.trigger,
    notice,
    holdUntil: new Date(run.now().getTime() + Math.min(holdMs, MAX_HOLD_MS)).toISOString(),
    interrupted: true,
  };
  try {
    await putRecord(run, evidenceBucket, key, record);
    return key;
  } catch (error) {
    run.logger.warn('Interrupted-notice not held: should this invocation stop, nobody is told', {
      error: describeError(error),
      subject: notice.subject,
    });
    return undefined;
  }
}

/**
 * Drops the held notice of an invocation that ended up with nothing to tell (a duplicate). Marked released
 * first, then deleted: should the delete fail, the marker still keeps a later invocation from paging
 * "INTERRUPTED" for an invocation that did not stop.
 */
export async function releaseHeldNotice(run: RunContext, heldKey: string): Promise<void> {
  const evidenceBucket = pendingBucket(run);
  if (evidenceBucket === undefined) return;
  try {
    await putRecord(run, evidenceBucket, heldKey, {
      schema: 'registry-guard/pending-notice/v1',
      released: true,
    });
  } catch (error) {
    run.logger.warn('Held notice not marked released: deleting it', {
      key: heldKey,
      error: describeError(error),
    });
  }
  await deletePending(run, evidenceBucket, heldKey);
}

/**
 * Publishes the notices earlier invocations could not, oldest first, each marked as delivered late.
 *
 * The listing is followed page by page until {@link MAX_OUTSTANDING_PER_RUN} records were attempted or it
 * ends: records that cannot be taken now (too young, leased by another invocation) are passed over without
 * counting, so however many of them sort first, the ones behind them are still reached.
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
  let delivered = 0;
  let attempted = 0;
  const failures: string[] = [];
  let continuationToken: string | undefined;
  do {
    let page: PendingPage;
    try {
      page = await listPendingPage(run, evidenceBucket, minAgeMs, continuationToken);
    } catch (error) {
      const failure = `Listing pending notices in s3://${evidenceBucket}/${EVIDENCE_PREFIXES.pendingNotices} failed: ${describeError(error)}`;
      run.logger.error(failure, {});
      failures.push(failure);
      break;
    }
    for (const key of page.keys) {
      if (attempted >= MAX_OUTSTANDING_PER_RUN) break;
      const attempt = await deliverPending(run, evidenceBucket, topicArn, key);
      if (attempt.outcome === 'passed-over') continue;
      attempted += 1;
      if (attempt.outcome === 'delivered') delivered += 1;
      else failures.push(attempt.failure);
    }
    continuationToken = page.nextToken;
  } while (continuationToken !== undefined && attempted < MAX_OUTSTANDING_PER_RUN);
  return { delivered, failures };
}

/** One page of the pending records old enough to take, in key (so first-attempt) order. */
interface PendingPage {
  readonly keys: string[];
  /** Where the listing goes on; undefined on its last page. */
  readonly nextToken?: string;
}

async function listPendingPage(
  run: RunContext,
  evidenceBucket: string,
  minAgeMs: number,
  continuationToken: string | undefined,
): Promise<PendingPage> {
  const listing = await run.s3.send(
    new ListObjectsV2Command({
      Bucket: evidenceBucket,
      Prefix: EVIDENCE_PREFIXES.pendingNotices,
      MaxKeys: MAX_OUTSTANDING_PER_RUN,
      ContinuationToken: continuationToken,
    }),
  );
  const cutoff = run.now().getTime() - minAgeMs;
  const keys = (listing.Contents ?? [])
    .filter((object) => object.LastModified === undefined || object.LastModified.getTime() <= cutoff)
    .map((object) => object.Key)
    .filter((key): key is string => key !== undefined && key.endsWith('.json'))
    .sort();
  const nextToken =
    listing.IsTruncated === true && listing.NextContinuationToken !== ''
      ? listing.NextContinuationToken
      : undefined;
  return { keys, nextToken };
}

/**
 * How one pending record fared: `passed-over` when it was not this invocation's to take (gone, or leased
 * by another invocation), which does not count against the per-run budget.
 */
type PendingAttempt =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'passed-over' }
  | { readonly outcome: 'failed'; readonly failure: string };

/** Reads one record, quarantines it when unreadable, leases it, publishes it late, then deletes it. */
async function deliverPending(
  run: RunContext,
  evidenceBucket: string,
  topicArn: string,
  key: string,
): Promise<PendingAttempt> {
  const uri = `s3://${evidenceBucket}/${key}`;
  let text: string;
  let etag: string | undefined;
  try {
    const output = await run.s3.send(new GetObjectCommand({ Bucket: evidenceBucket, Key: key }));
    text = (await output.Body?.transformToString()) ?? '';
    etag = output.ETag;
  } catch (error) {
    // Listed but gone: another invocation delivered it in between.
    if (isMissing(error)) return { outcome: 'passed-over' };
    // Left in place: a read error is throttling or a permissions slip, and moving the record needs its bytes.
    const failure = `Reading the pending notice ${uri} failed: ${describeError(error)}`;
    run.logger.error(failure, { key });
    return { outcome: 'failed', failure };
  }
  if (isReleased(text)) {
    // A duplicate's held notice whose delete failed: nothing to tell, only to tidy.
    await deletePending(run, evidenceBucket, key);
    return { outcome: 'passed-over' };
  }
  let record: PendingNoticeRecord;
  try {
    record = parseRecord(text);
  } catch (error) {
    return quarantine(run, evidenceBucket, key, text, error);
  }
  const lease = await takeLease(run, evidenceBucket, key, record, etag);
  if (lease.outcome !== 'taken') return lease;
  const late: Notice = withAddedParagraph(
    record.notice,
    record.interrupted === true
      ? `Delivered late: the invocation that started at ${record.firstAttemptAt} ` +
          `(${record.trigger}) stopped before it reported what it did; sent by ${run.trigger}.`
      : `Delivered late: the first attempt, at ${record.firstAttemptAt} ` +
          `(${record.trigger}), failed; this is the same notice, sent by ${run.trigger}.`,
  );
  try {
    await publishNotice(run.sns, topicArn, late);
  } catch (error) {
    // The record keeps this invocation's lease: once it is over, a later invocation publishes it.
    const failure = `Publishing the pending notice ${uri} failed again: ${describeError(error)}; it is retried once its ${PENDING_NOTICE_LEASE_MS / 1000}-second lease is over`;
    run.logger.error(failure, { notice: late });
    return { outcome: 'failed', failure };
  }
  run.logger.info('Delivered a pending notice', { key, subject: late.subject });
  await deletePending(run, evidenceBucket, key);
  return { outcome: 'delivered' };
}

/**
 * Makes the record this invocation's to publish: rewritten with `deliveringAt`, conditional on the ETag
 * it was read with, so of any number of invocations that read the same record, one writes and the others
 * get 412 and pass it over. Another invocation's lease younger than {@link PENDING_NOTICE_LEASE_MS} is left
 * alone: its holder may be publishing right now. An older one is taken over: its holder failed or stopped.
 */
async function takeLease(
  run: RunContext,
  evidenceBucket: string,
  key: string,
  record: PendingNoticeRecord,
  etag: string | undefined,
): Promise<{ readonly outcome: 'taken' } | Exclude<PendingAttempt, { outcome: 'delivered' }>> {
  const now = run.now();
  if (held(record, now)) return { outcome: 'passed-over' };
  if (leaseHeld(record, now)) {
    run.logger.info('Pending notice is being delivered by another invocation: left to it', {
      key,
      deliveringAt: record.deliveringAt,
      deliveringBy: record.deliveringBy,
    });
    return { outcome: 'passed-over' };
  }
  const leased: PendingNoticeRecord = {
    ...record,
    deliveringAt: now.toISOString(),
    deliveringBy: run.trigger,
  };
  try {
    // S3 always returns an ETag; without one the lease cannot be exclusive, and a duplicate beats a loss.
    await putRecord(run, evidenceBucket, key, leased, etag === undefined ? {} : { IfMatch: etag });
    return { outcome: 'taken' };
  } catch (error) {
    // Another invocation leased it (or delivered and deleted it) since it was read.
    if (isConditionFailure(error) || isMissing(error)) return { outcome: 'passed-over' };
    // Not published without the lease: twenty invocations doing so would page twenty times. It waits.
    const failure = `Leasing the pending notice s3://${evidenceBucket}/${key} before publishing it failed: ${describeError(error)}; it stays pending`;
    run.logger.error(failure, { key });
    return { outcome: 'failed', failure };
  }
}

/** True while the invocation that held the notice may still replace it (and never for longer than {@link MAX_HOLD_MS}). */
function held(record: PendingNoticeRecord, now: Date): boolean {
  if (record.holdUntil === undefined) return false;
  const until = Date.parse(record.holdUntil);
  if (Number.isNaN(until)) return false;
  const left = until - now.getTime();
  return left > 0 && left <= MAX_HOLD_MS;
}

/**
 * True while another invocation's lease on the record runs. A `deliveringAt` far in the future (a clock
 * gone wrong, a hand-edited record) holds nothing, or the record would wait forever.
 */
function leaseHeld(record: PendingNoticeRecord, now: Date): boolean {
  if (record.deliveringAt === undefined) return false;
  const leasedAt = Date.parse(record.deliveringAt);
  if (Number.isNaN(leasedAt)) return false;
  const age = now.getTime() - leasedAt;
  return age < PENDING_NOTICE_LEASE_MS && age > -PENDING_NOTICE_LEASE_MS;
}

/**
 * Moves a record that is not a pending notice out of `_pending-notices/`, to the same name under
 * `_pending-notices-unreadable/`: left where it was, it would fail every later invocation and take a place
 * among the records each one attempts. The copy is conditional on not existing, so when several
 * invocations find the same record, the one that moved it reports it and the others pass it over.
 */
async function quarantine(
  run: RunContext,
  evidenceBucket: string,
  key: string,
  text: string,
  parseError: unknown,
): Promise<PendingAttempt> {
  const target = `${EVIDENCE_PREFIXES.unreadablePendingNotices}${key.slice(EVIDENCE_PREFIXES.pendingNotices.length)}`;
  const what = `The pending notice s3://${evidenceBucket}/${key} is unreadable (${describeError(parseError)})`;
  const failed = (failure: string): PendingAttempt => {
    run.logger.error(failure, { key });
    return { outcome: 'failed', failure };
  };
  let movedHere = true;
  try {
    await run.s3.send(
      new PutObjectCommand({
        Bucket: evidenceBucket,
        Key: target,
        Body: text,
        ContentType: 'application/octet-stream',
        IfNoneMatch: '*',
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) {
      return failed(
        `${what} and could not be moved to s3://${evidenceBucket}/${target}: ${describeError(error)}; the next invocation tries again`,
      );
    }
    // Already there: copied by a concurrent invocation, or by an earlier one whose delete failed; that one
    // reported it.
    movedHere = false;
  }
  try {
    await run.s3.send(new DeleteObjectCommand({ Bucket: evidenceBucket, Key: key }));
  } catch (error) {
    return failed(
      `${what}: copied to s3://${evidenceBucket}/${target} but not removed (${describeError(error)}); the next invocation tries again`,
    );
  }
  if (!movedHere) return { outcome: 'passed-over' };
  return failed(
    `${what}: moved to s3://${evidenceBucket}/${target}, kept there for a person to read and never retried`,
  );
}

/** A new record's key: sorted by time, so the oldest is delivered first. */
function newPendingKey(run: RunContext): string {
  return `${EVIDENCE_PREFIXES.pendingNotices}${run.now().toISOString()}-${run.newId()}.json`;
}

/** Writes one JSON record to the evidence bucket, with S3's conditions when given. */
async function putRecord(
  run: RunContext,
  evidenceBucket: string,
  key: string,
  record: unknown,
  condition: { IfMatch?: string } = {},
): Promise<void> {
  await run.s3.send(
    new PutObjectCommand({
      Bucket: evidenceBucket,
      Key: key,
      Body: `${JSON.stringify(record)}\n`,
      ContentType: 'application/json',
      ...condition,
    }),
  );
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

function isReleased(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { released?: unknown };
    return parsed !== null && typeof parsed === 'object' && parsed.released === true;
  } catch {
    return false;
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
    notice: {
      subject: notice.subject,
      message: notice.message,
      attributes: notice.attributes,
      // A record written before notices had a chat form, or one whose chat form is unreadable, still goes out.
      chat: parseChatNotice(notice.chat),
    },
    deliveringAt: typeof parsed.deliveringAt === 'string' ? parsed.deliveringAt : undefined,
    deliveringBy: typeof parsed.deliveringBy === 'string' ? parsed.deliveringBy : undefined,
    holdUntil: typeof parsed.holdUntil === 'string' ? parsed.holdUntil : undefined,
    interrupted: parsed.interrupted === true ? true : undefined,
  };
}

/** The object is not there (any more): S3 says NoSuchKey to GetObject, and to a PutObject with IfMatch. */
function isMissing(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound';
}

/** A conditional write lost: 412 when the condition failed, 409 when a concurrent write raced it. */
function isConditionFailure(error: unknown): boolean {
  const name = errorName(error);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}
