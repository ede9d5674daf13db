/**
 * AWS Config's periodic run: sweep every bucket of the Region, then its access points (and, in us-west-2,
 * the account's Multi-Region Access Points), the safety net for whatever the fast path missed. With a sweep queue (SWEEP_QUEUE_URL) the sweep is fanned out (sweep/fan-out.ts): this invocation
 * only sends the first page message. Without one, every bucket is judged here, by the same code a batch
 * uses; the invocation watches its remaining time, starts no bucket it may not finish, and records where it
 * stopped, so the next sweep starts there (remediate mode; report mode writes nothing and starts at the
 * beginning).
 */
import { describeError } from '../aws-errors';
import { ConfigScheduledEvent } from '../events';
import { listBucketNames } from '../read/bucket-list';
import { readSweepCursor, rotateFrom, writeSweepCursor } from '../read/sweep-cursor';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';
import { judgeAllAccessPoints } from '../sweep/access-point-pages';
import { startFannedOutSweep } from '../sweep/fan-out';
import { DEFAULT_SWEEP_CONCURRENCY, judgeBuckets } from '../sweep/judge-buckets';
import { SweepQueue } from '../sweep/sweep-queue';

export { DEFAULT_SWEEP_CONCURRENCY, SWEEP_TIME_RESERVE_MS } from '../sweep/judge-buckets';

/**
 * @example
 * await onConfigSweep(run, event, report, DEFAULT_SWEEP_CONCURRENCY);
 */
export async function onConfigSweep(
  run: RunContext,
  event: ConfigScheduledEvent,
  report: RunReport,
  concurrency: number = DEFAULT_SWEEP_CONCURRENCY,
  queue?: SweepQueue,
): Promise<void> {
  if (queue !== undefined) {
    await startFannedOutSweep(run, event, queue);
    return;
  }
  report.expectEvaluations(event.resultToken, event.orderingTimestamp);
  // Throttling or an outage leaves many buckets unread at once: one page for all of them, not one each.
  report.digestUnverifiable();
  let buckets: string[];
  try {
    [buckets] = await Promise.all([listBucketNames(run.s3, run.region), run.registries.preload()]);
  } catch (error) {
    run.logger.error(`Sweep: ListBuckets failed: ${describeError(error)}`, { trigger: run.trigger });
    throw error;
  }
  // The cursor serves only this path: one invocation that may run short. A fanned-out sweep never does.
  const evidenceBucket = run.settings.mode === 'remediate' ? run.settings.evidenceBucket : undefined;
  const startAt = evidenceBucket === undefined ? undefined : await readSweepCursor(run.s3, evidenceBucket);
  const order = rotateFrom(buckets, startAt);
  run.logger.info('Sweeping buckets in this invocation (no SWEEP_QUEUE_URL)', {
    buckets: buckets.length,
    startAt,
    region: run.region,
    trigger: run.trigger,
  });
  const { skipped } = await judgeBuckets(run, report, order, concurrency);
  if (evidenceBucket !== undefined && (skipped.length > 0 || startAt !== undefined)) {
    const next = skipped.length > 0 ? order[Math.min(...skipped)] : undefined;
    const failure = await writeSweepCursor(run.s3, evidenceBucket, next, run.now());
    if (failure !== undefined)
      run.logger.warn('Sweep cursor not saved: the next sweep starts at the beginning', { error: failure });
  }
  if (skipped.length > 0) {
    report.sweepCutShort(skipped.length, buckets.length);
    return;
  }
  const accessPoints = await judgeAllAccessPoints(run, report, concurrency);
  if (accessPoints.skipped > 0) {
    report.sweepCutShort(accessPoints.skipped, accessPoints.listed, 'access points listed');
  }
}
