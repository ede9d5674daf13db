/**
 * AWS Config says one bucket's configuration changed: judge it from its live state (the item may be minutes
 * old, or absent when oversized) and evaluate it with the item's capture time.
 */
import { ConfigChangeEvent } from '../events';
import { guardBucket, notApplicable } from '../guard-bucket';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/**
 * @example
 * await onConfigChange(run, event, report);
 */
export async function onConfigChange(
  run: RunContext,
  event: ConfigChangeEvent,
  report: RunReport,
): Promise<void> {
  report.expectEvaluations(event.resultToken, event.orderingTimestamp);
  const outcome =
    event.notApplicableReason !== undefined
      ? notApplicable(event.bucket, event.notApplicableReason)
      : await guardBucket(run, event.bucket);
  await report.bucket(outcome);
}
