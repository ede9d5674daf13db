/**
 * AWS Config's periodic run: sweep every bucket of the Region, the safety net for whatever the fast path
 * missed. The sweep watches the function's remaining time: it starts no bucket it may not finish, so the
 * evaluations of every bucket judged are sent before Lambda stops it, and it records where it stopped, so
 * the next sweep starts there (remediate mode; report mode writes nothing and starts at the beginning).
 */
import { describeError } from '../aws-errors';
import { mapWithConcurrency } from '../concurrency';
import { ConfigScheduledEvent } from '../events';
import { guardBucket } from '../guard-bucket';
import { listBucketNames } from '../read/bucket-list';
import { readSweepCursor, rotateFrom, writeSweepCursor } from '../read/sweep-cursor';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/** Buckets judged at once during a sweep. */
export const DEFAULT_SWEEP_CONCURRENCY = 8;
/**
 * Time kept back from a sweep for what must follow it: the last evaluation batches, outstanding notices and
 * the final log line.
 */
export const SWEEP_TIME_RESERVE_MS = 30_000;

/**
 * @example
 * await onConfigSweep(run, event, report, DEFAULT_SWEEP_CONCURRENCY);
 */
export async function onConfigSweep(
  run: RunContext,
  event: ConfigScheduledEvent,
  report: RunReport,
  concurrency: number = DEFAULT_SWEEP_CONCURRENCY,
): Promise<void> {
  report.expectEvaluations(event.resultToken, event.orderingTimestamp);
  let buckets: string[];
  try {
    [buckets] = await Promise.all([listBucketNames(run.s3, run.region), run.registries.preload()]);
  } catch (error) {
    run.logger.error(`Sweep: ListBuckets failed: ${describeError(error)}`, { trigger: run.trigger });
    throw error;
  }
  const evidenceBucket = run.settings.mode === 'remediate' ? run.settings.evidenceBucket : undefined;
  const startAt = evidenceBucket === undefined ? undefined : await readSweepCursor(run.s3, evidenceBucket);
  const order = rotateFrom(buckets, startAt);
  run.logger.info('Sweeping buckets', {
    buckets: buckets.length,
    startAt,
    region: run.region,
    trigger: run.trigger,
  });
  const skipped: number[] = [];
  await mapWithConcurrency(order, concurrency, async (bucket, index) => {
    if (run.remainingMs() < SWEEP_TIME_RESERVE_MS) {
      skipped.push(index);
      return;
    }
    await report.bucket(await guardBucket(run, bucket));
  });
  if (evidenceBucket !== undefined && (skipped.length > 0 || startAt !== undefined)) {
    const next = skipped.length > 0 ? order[Math.min(...skipped)] : undefined;
    const failure = await writeSweepCursor(run.s3, evidenceBucket, next, run.now());
    if (failure !== undefined)
      run.logger.warn('Sweep cursor not saved: the next sweep starts at the beginning', { error: failure });
  }
  if (skipped.length > 0) report.sweepCutShort(skipped.length, buckets.length);
}
