/**
 * A sweep fanned out through the sweep queue. The invocation AWS Config starts sends only the first `page`
 * message; a page lists one ListBuckets page and hands its buckets out as `batch` messages, then sends the
 * next page (or, after the last, a delayed `finish`); a batch judges its buckets and sends their evaluations
 * with the sweep's result token; the finish waits for every batch and sends the sweep's one digest of
 * buckets that could not be verified. The same function consumes the queue, one message per invocation, so
 * no invocation holds more than one page or one batch.
 */
import { describeError } from '../aws-errors';
import { ConfigScheduledEvent } from '../events';
import { listBucketPage } from '../read/bucket-list';
import { Notice, noticeContextOf, RUNBOOK, subjectLine, modeLines } from '../report/notice';
import { BucketOutcome, unverifiableOutcome } from '../report/outcome';
import { RunReport } from '../report/run-report';
import { composeUnverifiableDigest } from '../report/unverifiable-digest';
import { RunContext } from '../run-context';
import { DEFAULT_SWEEP_CONCURRENCY, judgeBuckets } from './judge-buckets';
import {
  accessPointScopesOf,
  judgeAccessPoints,
  listAccessPointPage,
  reportUnnamed,
} from './access-point-pages';
import {
  AccessPointPageMessage,
  BatchMessage,
  FinishMessage,
  MAX_SWEEP_PAGES,
  PageMessage,
  SweepIdentity,
  sweepIdOf,
} from './messages';
import { sendSweepMessages, SweepQueue } from './sweep-queue';
import {
  claimOnce,
  listDoneBatches,
  readSweepListed,
  readUnverifiable,
  sha256,
  UnverifiableEntry,
  writeBatchDone,
  writeSweepListed,
  writeSweepStart,
} from './sweep-records';

/** How a fanned-out sweep divides and paces its work; the defaults are what the guard deploys with. */
export interface SweepTuning {
  /**
   * Buckets per batch message. 24 at {@link DEFAULT_SWEEP_CONCURRENCY} is three rounds: a bucket is at most
   * two sequential steps of reads, each waiting at most 20 s for its retries under throttling, so a batch
   * takes at most about 3 × 40 s = 120 s, under half the function's 5 minutes; at 50 ms a call, about 0.5 s.
   */
  readonly batchSize: number;
  /** Buckets asked for per ListBuckets call (MaxBuckets). */
  readonly pageSize: number;
  /** Buckets judged at once within a batch. */
  readonly concurrency: number;
  /** How long the finish waits before (each time) it looks whether every batch is done. */
  readonly finishDelaySeconds: number;
  /**
   * Checks in a row with no batch newly done after which the finish stops waiting and sends its digest,
   * naming the batches missing: by then they are retried alone or in the dead-letter queue.
   */
  readonly maxStalledChecks: number;
  /** Checks after which the finish sends its digest whatever the progress. */
  readonly maxFinishChecks: number;
}

/** The deployed tuning: see each field. */
export const DEFAULT_SWEEP_TUNING: SweepTuning = {
  batchSize: 24,
  pageSize: 1_000,
  concurrency: DEFAULT_SWEEP_CONCURRENCY,
  finishDelaySeconds: 300,
  // 100 minutes without a batch newly done: longer than a failing batch takes to reach the dead-letter queue
  // (three receives, the sweep queue's 30-minute visibility timeout apart), so a batch still being retried is
  // waited for, and one in the dead-letter queue is named missing.
  maxStalledChecks: 20,
  // A day of checks: the longest a daily sweep may take before the next one starts.
  maxFinishChecks: 288,
};

/**
 * Where a fanned-out sweep keeps its records (`_sweep/<sweepId>/`): the evidence bucket in remediate mode.
 * Report mode writes nothing, so without one each batch sends its own digest and messages are checked only
 * against the queue they came from.
 */
export function sweepRecordsBucket(run: RunContext): string | undefined {
  return run.settings.mode === 'remediate' ? run.settings.evidenceBucket : undefined;
}

/** The sweep a ScheduledNotification starts: its id, token, ordering timestamp and Region. */
export function sweepOf(run: RunContext, event: ConfigScheduledEvent): SweepIdentity {
  const hash = sha256(
    [event.configRuleName ?? '', run.accountId, run.region ?? '', event.resultToken].join('\n'),
  );
  return {
    sweepId: sweepIdOf(event.orderingTimestamp, hash),
    resultToken: event.resultToken,
    orderingTimestamp: event.orderingTimestamp,
    region: run.region,
    configRuleName: event.configRuleName,
  };
}

/**
 * Starts a fanned-out sweep: records it (remediate mode with an evidence bucket) and sends its first page
 * message. Nothing else: the invocation Config started ends in well under a second, whatever the account.
 *
 * @throws when the record or the message cannot be written: the invocation fails, and Lambda's retry starts
 *   the same sweep (same id) again.
 */
export async function startFannedOutSweep(
  run: RunContext,
  event: ConfigScheduledEvent,
  queue: SweepQueue,
): Promise<SweepIdentity> {
  const sweep = sweepOf(run, event);
  const recordsBucket = sweepRecordsBucket(run);
  if (recordsBucket !== undefined) await writeSweepStart(run.s3, recordsBucket, sweep, run.now());
  const first: PageMessage = { ...sweep, kind: 'page', pageIndex: 0, batchesBefore: 0 };
  const accessPoints: AccessPointPageMessage[] = accessPointScopesOf(run.region).map((scope) => ({
    ...sweep,
    kind: 'access-points',
    scope,
    pageIndex: 0,
  }));
  await sendSweepMessages(queue, [first, ...accessPoints]);
  run.logger.info('Sweep started: first page queued', {
    sweepId: sweep.sweepId,
    region: run.region,
    queueUrl: queue.url,
    recorded: recordsBucket !== undefined,
    trigger: run.trigger,
  });
  return sweep;
}

/**
 * One page: lists it, queues its buckets as batches, then queues the next page, or, after the last, records
 * the number of batches and queues the finish.
 *
 * @throws when ListBuckets fails, S3 hands back the token it was given, or messages cannot be queued: the
 *   page message fails and SQS delivers it again (batches already queued are queued again: harmless).
 */
export async function onPageMessage(
  run: RunContext,
  message: PageMessage,
  queue: SweepQueue,
  tuning: SweepTuning,
): Promise<void> {
  const page = await listBucketPage(run.s3, message.region, message.continuationToken, tuning.pageSize);
  if (page.nextToken !== undefined && page.nextToken === message.continuationToken) {
    throw new Error(
      `Sweep ${message.sweepId}: ListBuckets returned the continuation token it was given: the listing would not end`,
    );
  }
  const identity = identityOf(message);
  const batches: BatchMessage[] = [];
  for (let start = 0; start < page.buckets.length; start += tuning.batchSize) {
    batches.push({
      ...identity,
      kind: 'batch',
      batchId: `p${message.pageIndex}-b${batches.length}`,
      buckets: page.buckets.slice(start, start + tuning.batchSize),
    });
  }
  await sendSweepMessages(queue, batches);
  const batchesSoFar = message.batchesBefore + batches.length;
  const last = page.nextToken === undefined;
  if (!last) {
    if (message.pageIndex + 1 >= MAX_SWEEP_PAGES) {
      throw new Error(`Sweep ${message.sweepId}: more than ${MAX_SWEEP_PAGES} ListBuckets pages: stopping`);
    }
    await sendSweepMessages(queue, [
      {
        ...identity,
        kind: 'page',
        pageIndex: message.pageIndex + 1,
        continuationToken: page.nextToken,
        batchesBefore: batchesSoFar,
      },
    ]);
  } else {
    const recordsBucket = sweepRecordsBucket(run);
    if (recordsBucket !== undefined) {
      await writeSweepListed(run.s3, recordsBucket, message.sweepId, {
        batches: batchesSoFar,
        pages: message.pageIndex + 1,
        now: run.now(),
      });
      const finish: FinishMessage = {
        ...identity,
        kind: 'finish',
        checks: 0,
        stalledChecks: 0,
        doneAtLastCheck: 0,
      };
      await sendSweepMessages(queue, [finish], tuning.finishDelaySeconds);
    }
  }
  run.logger.info('Sweep page listed: batches queued', {
    sweepId: message.sweepId,
    pageIndex: message.pageIndex,
    buckets: page.buckets.length,
    batches: batches.length,
    batchesSoFar,
    lastPage: last,
    trigger: run.trigger,
  });
}

/**
 * One batch: judges its buckets (evaluations and notices through the report, as any sweep). Without sweep
 * records the batch's own report sends a digest for the batch; with them, the unverifiable buckets are kept
 * for the sweep's digest and the returned function records the batch done, which the caller runs only once
 * the report delivered everything (so a batch counted done had its evaluations accepted). A rejected result
 * token is paged once per sweep, not retried.
 *
 * @returns what to run after the report finished without failure.
 */
export async function onBatchMessage(
  run: RunContext,
  message: BatchMessage,
  report: RunReport,
  tuning: SweepTuning,
): Promise<() => Promise<void>> {
  const recordsBucket = sweepRecordsBucket(run);
  report.expectEvaluations(
    message.resultToken,
    message.orderingTimestamp,
    recordsBucket === undefined
      ? undefined
      : (failure: string) =>
          pageRejectedTokenOnce(run, report, message, `batch ${message.batchId}`, recordsBucket, failure),
  );
  let unverifiable: UnverifiableEntry[] = [];
  report.digestUnverifiable(
    recordsBucket === undefined
      ? undefined
      : async (outcomes: readonly BucketOutcome[]) => {
          unverifiable = outcomes.map((outcome) => ({
            bucket: outcome.bucket,
            reason: outcome.unverifiable ?? 'unknown',
          }));
        },
  );
  // Per batch: one ListObjectsV2 call per thousand registries, instead of one GetObject per bucket.
  await run.registries.preload();
  const { skipped } = await judgeBuckets(run, report, message.buckets, tuning.concurrency);
  // The report then fails the batch, and its retry judges it whole.
  if (skipped.length > 0) report.sweepCutShort(skipped.length, message.buckets.length);
  run.logger.info('Sweep batch judged', {
    sweepId: message.sweepId,
    batchId: message.batchId,
    buckets: message.buckets.length,
    skipped: skipped.length,
    trigger: run.trigger,
  });
  return async () => {
    if (recordsBucket === undefined) return;
    await writeBatchDone(run.s3, recordsBucket, message.sweepId, {
      batchId: message.batchId,
      buckets: message.buckets.length,
      unverifiable,
      now: run.now(),
    });
  };
}

/**
 * One page of access points (or Multi-Region Access Points): judges them, then queues the next page. A
 * public one makes its bucket NON_COMPLIANT in Config (ordered after the bucket's own evaluation); those
 * that could not be verified go out in this message's one digest, not the sweep's (the finish counts
 * batches of buckets only).
 *
 * @throws when the listing fails or the next page cannot be queued: SQS delivers the message again.
 */
export async function onAccessPointPageMessage(
  run: RunContext,
  message: AccessPointPageMessage,
  queue: SweepQueue,
  report: RunReport,
  tuning: SweepTuning,
): Promise<void> {
  const recordsBucket = sweepRecordsBucket(run);
  const part = `${message.scope} access points page ${message.pageIndex}`;
  report.expectEvaluations(
    message.resultToken,
    message.orderingTimestamp,
    recordsBucket === undefined
      ? undefined
      : (failure: string) => pageRejectedTokenOnce(run, report, message, part, recordsBucket, failure),
  );
  report.digestUnverifiable();
  const page = await listAccessPointPage(run, message.scope, message.nextToken);
  await reportUnnamed(run, report, message.scope, page);
  const { skipped } = await judgeAccessPoints(run, report, message.scope, page.names, tuning.concurrency);
  if (skipped.length > 0) {
    // The message fails and is delivered again; its successor is queued by the delivery that finishes.
    report.sweepCutShort(skipped.length, page.names.length, 'access points');
  } else if (page.nextToken !== undefined) {
    if (message.pageIndex + 1 >= MAX_SWEEP_PAGES) {
      throw new Error(
        `Sweep ${message.sweepId}: more than ${MAX_SWEEP_PAGES} pages of ${message.scope} access points: stopping`,
      );
    }
    await sendSweepMessages(queue, [
      {
        ...identityOf(message),
        kind: 'access-points',
        scope: message.scope,
        pageIndex: message.pageIndex + 1,
        nextToken: page.nextToken,
      },
    ]);
  }
  run.logger.info('Sweep access points judged', {
    sweepId: message.sweepId,
    scope: message.scope,
    pageIndex: message.pageIndex,
    accessPoints: page.names.length,
    skipped: skipped.length,
    lastPage: page.nextToken === undefined,
    trigger: run.trigger,
  });
}

/**
 * The finish: when every batch is done (or the wait is over), sends the sweep's one digest, once, naming
 * any batch that never reported; until then it queues itself again with a delay.
 */
export async function onFinishMessage(
  run: RunContext,
  message: FinishMessage,
  queue: SweepQueue,
  report: RunReport,
  tuning: SweepTuning,
): Promise<void> {
  const recordsBucket = sweepRecordsBucket(run);
  if (recordsBucket === undefined) {
    run.logger.warn('Sweep finish ignored: no sweep records (report mode or no EVIDENCE_BUCKET)', {
      sweepId: message.sweepId,
    });
    return;
  }
  const [total, done] = await Promise.all([
    readSweepListed(run.s3, recordsBucket, message.sweepId),
    listDoneBatches(run.s3, recordsBucket, message.sweepId),
  ]);
  const doneCount = new Set(done).size;
  const complete = total !== undefined && doneCount >= total;
  const progress = {
    sweepId: message.sweepId,
    batches: total,
    batchesDone: doneCount,
    checks: message.checks + 1,
    trigger: run.trigger,
  };
  if (!complete) {
    const stalledChecks = doneCount > message.doneAtLastCheck ? 0 : message.stalledChecks + 1;
    if (stalledChecks < tuning.maxStalledChecks && message.checks + 1 < tuning.maxFinishChecks) {
      await sendSweepMessages(
        queue,
        [{ ...message, checks: message.checks + 1, stalledChecks, doneAtLastCheck: doneCount }],
        tuning.finishDelaySeconds,
      );
      run.logger.info('Sweep in progress: finish waits for its batches', { ...progress, stalledChecks });
      return;
    }
  }
  const first = await claimOnce(run.s3, recordsBucket, message.sweepId, 'digest', {
    schema: 'registry-guard/sweep-digest/v1',
    at: run.now().toISOString(),
    batches: total ?? null,
    batchesDone: doneCount,
  });
  if (!first) {
    run.logger.info('Sweep finish: digest already sent by another finish message', progress);
    return;
  }
  const unverifiable = await readUnverifiable(run.s3, recordsBucket, message.sweepId);
  const missing = total === undefined ? undefined : Math.max(0, total - doneCount);
  const log = complete ? run.logger.info : run.logger.error;
  log.call(run.logger, complete ? 'Sweep finished' : 'Sweep finished INCOMPLETE: batches missing', {
    ...progress,
    batchesMissing: missing ?? 'unknown',
    unverifiable: unverifiable.length,
  });
  if (unverifiable.length === 0 && complete) return;
  await report.announce(
    composeSweepDigest(run, message, unverifiable, complete ? undefined : { total, doneCount }),
    {
      sweepId: message.sweepId,
    },
  );
}

/**
 * The sweep's one notice: its unverifiable buckets (the digest every sweep sends), headed by what is
 * missing when not every batch reported.
 */
function composeSweepDigest(
  run: RunContext,
  sweep: SweepIdentity,
  unverifiable: readonly UnverifiableEntry[],
  incomplete: { total: number | undefined; doneCount: number } | undefined,
): Notice {
  const context = noticeContextOf(run);
  const missingLine =
    incomplete === undefined
      ? undefined
      : `SWEEP INCOMPLETE: ${incomplete.total === undefined ? 'its listing never finished' : `${incomplete.total - incomplete.doneCount} of ${incomplete.total} batches`} did not report. ` +
        'Their buckets were not judged by this sweep (or were, without recording it): see the sweep dead-letter queue ' +
        `and the log lines with sweepId ${sweep.sweepId} (runbook, "How a sweep runs").`;
  if (unverifiable.length === 0) {
    return {
      subject: subjectLine(
        `registry-guard: sweep INCOMPLETE (account ${context.accountId ?? 'unknown'}, ${context.region ?? 'all Regions'})`,
      ),
      message: [
        missingLine ?? '',
        '',
        `Account: ${context.accountId ?? 'unknown'}`,
        `Region: ${context.region ?? 'unknown'}`,
        `Sweep: ${sweep.sweepId}`,
        ...modeLines(context),
        '',
        `Runbook: ${RUNBOOK}`,
      ].join('\n'),
      attributes: { notice: 'sweep-incomplete', mode: context.mode },
    };
  }
  const digest = composeUnverifiableDigest(
    unverifiable.map((entry) => unverifiableOutcome(entry.bucket, entry.reason)),
    { ...context, trigger: `${context.trigger}, sweep ${sweep.sweepId}` },
  );
  return missingLine === undefined ? digest : { ...digest, message: `${missingLine}\n\n${digest.message}` };
}

/**
 * Config refused the sweep's result token (it expired, or the rule was changed since): every batch of the
 * sweep would be refused alike, so retrying would only carry them all to the dead-letter queue. The batch
 * succeeds (its buckets were judged and acted on); on-call gets one page for the sweep.
 */
async function pageRejectedTokenOnce(
  run: RunContext,
  report: RunReport,
  sweep: SweepIdentity,
  part: string,
  recordsBucket: string,
  failure: string,
): Promise<void> {
  run.logger.error('AWS Config refused the sweep result token: evaluations of this part not recorded', {
    sweepId: sweep.sweepId,
    part,
    error: failure,
  });
  let first: boolean;
  try {
    first = await claimOnce(run.s3, recordsBucket, sweep.sweepId, 'token-rejected', {
      schema: 'registry-guard/sweep-token-rejected/v1',
      at: run.now().toISOString(),
      part,
    });
  } catch (error) {
    // Cannot tell whether on-call heard: tell them (a second page beats none).
    run.logger.warn('Token-rejected claim not written', {
      sweepId: sweep.sweepId,
      error: describeError(error),
    });
    first = true;
  }
  if (!first) return;
  const context = noticeContextOf(run);
  await report.announce(
    {
      subject: subjectLine(
        `registry-guard: AWS Config refused sweep ${sweep.sweepId}'s evaluations (account ${context.accountId ?? 'unknown'})`,
      ),
      message: [
        `AWS Config refused the result token of sweep ${sweep.sweepId} (${failure}).`,
        'The sweep went on: every bucket is still judged and closed when public, and its notices go out, but ' +
          'AWS Config does not record this sweep’s evaluations. Usually the sweep took longer than Config keeps ' +
          'a periodic run’s token, or the rule was redeployed meanwhile. The next scheduled run evaluates ' +
          'every bucket again; to have it now: aws configservice start-config-rules-evaluation ' +
          `--config-rule-names ${sweep.configRuleName ?? '<rule>'}.`,
        '',
        `Account: ${context.accountId ?? 'unknown'}`,
        `Region: ${context.region ?? 'unknown'}`,
        ...modeLines(context),
        '',
        `Runbook: ${RUNBOOK} ("How a sweep runs")`,
      ].join('\n'),
      attributes: { notice: 'sweep-token-rejected', mode: context.mode },
    },
    { sweepId: sweep.sweepId },
  );
}

function identityOf(message: SweepIdentity): SweepIdentity {
  return {
    sweepId: message.sweepId,
    resultToken: message.resultToken,
    orderingTimestamp: message.orderingTimestamp,
    region: message.region,
    configRuleName: message.configRuleName,
  };
}
