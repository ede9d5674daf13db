/**
 * Judging a list of buckets: the one piece of sweep work, the same whether the list is a batch from the
 * sweep queue or every bucket of a small account judged in the invocation Config started.
 */
import { mapWithConcurrency } from '../concurrency';
import { guardBucket } from '../guard-bucket';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/** Buckets judged at once during a sweep or a batch of one. */
export const DEFAULT_SWEEP_CONCURRENCY = 8;
/**
 * Time kept back from a sweep for what must follow it: the last evaluation batches, outstanding notices and
 * the final log line.
 */
export const SWEEP_TIME_RESERVE_MS = 30_000;

/** What {@link judgeBuckets} did not get to. */
export interface JudgedBuckets {
  /** Positions (in the list given) of buckets not started because the invocation's time ran short. */
  readonly skipped: readonly number[];
}

/**
 * Judges each bucket (read, decide, act) and hands its outcome to the report, at most `concurrency` at once.
 * It starts no bucket within {@link SWEEP_TIME_RESERVE_MS} of the invocation's end, so every bucket judged
 * has its evaluation sent before Lambda stops the invocation.
 *
 * @example
 * const { skipped } = await judgeBuckets(run, report, ['roll', 'census'], 8);
 */
export async function judgeBuckets(
  run: RunContext,
  report: RunReport,
  buckets: readonly string[],
  concurrency: number = DEFAULT_SWEEP_CONCURRENCY,
): Promise<JudgedBuckets> {
  return judgeEach(run, buckets, concurrency, async (bucket) =>
    report.bucket(await guardBucket(run, bucket)),
  );
}

/**
 * Runs `judge` on each item, at most `concurrency` at once, starting none within
 * {@link SWEEP_TIME_RESERVE_MS} of the invocation's end: the pacing every part of a sweep shares.
 *
 * @example
 * const { skipped } = await judgeEach(run, ['roll-analytics'], 8, (name) => judgeOne(name));
 */
export async function judgeEach<T>(
  run: RunContext,
  items: readonly T[],
  concurrency: number,
  judge: (item: T) => Promise<void>,
): Promise<JudgedBuckets> {
  const skipped: number[] = [];
  await mapWithConcurrency(items, concurrency, async (item, index) => {
    if (run.remainingMs() < SWEEP_TIME_RESERVE_MS) {
      skipped.push(index);
      return;
    }
    await judge(item);
  });
  return { skipped };
}
