/**
 * Bounded concurrency for sweeps: enough calls in flight to be quick, few enough that S3 does not
 * throttle a large account into "could not verify".
 */

/**
 * Runs `work` on every item with at most `limit` running at once; results keep the items' order.
 * A rejected `work` rejects the whole run, so `work` should settle its own errors.
 *
 * @example
 * const outcomes = await mapWithConcurrency(bucketNames, 8, (bucket) => guardBucket(context, bucket));
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index], index);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  return results;
}
