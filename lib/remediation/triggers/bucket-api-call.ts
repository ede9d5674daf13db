/**
 * CloudTrail says someone changed one bucket's access or tags: the seconds-level fast path.
 */
import { BucketApiCallEvent } from '../events';
import { guardBucket } from '../guard-bucket';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/**
 * @example
 * await onBucketApiCall(run, event, report);
 */
export async function onBucketApiCall(
  run: RunContext,
  event: BucketApiCallEvent,
  report: RunReport,
): Promise<void> {
  await report.bucket(await guardBucket(run, event.bucket));
}
