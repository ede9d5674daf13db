/**
 * CloudTrail says someone opened a way into a bucket other than the bucket's own settings: an access point,
 * a Multi-Region Access Point, or one object's ACL (a data event).
 */
import {
  AccessPointApiCallEvent,
  MultiRegionAccessPointApiCallEvent,
  ObjectAclApiCallEvent,
} from '../events';
import { guardObjectAcl } from '../guard-object-acl';
import { guardAccessPoint } from '../guard-access-point';
import { guardMultiRegionAccessPoint } from '../guard-multi-region-access-point';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/**
 * @example
 * await onAccessPointApiCall(run, event, report);
 */
export async function onAccessPointApiCall(
  run: RunContext,
  event: AccessPointApiCallEvent,
  report: RunReport,
): Promise<void> {
  await report.bucket(await guardAccessPoint(run, event.accessPoint));
}

/**
 * @example
 * await onMultiRegionAccessPointApiCall(run, event, report);
 */
export async function onMultiRegionAccessPointApiCall(
  run: RunContext,
  event: MultiRegionAccessPointApiCallEvent,
  report: RunReport,
): Promise<void> {
  for (const outcome of await guardMultiRegionAccessPoint(run, event.multiRegionAccessPoint)) {
    await report.bucket(outcome);
  }
}

/**
 * @example
 * await onObjectAclApiCall(run, event, report);
 */
export async function onObjectAclApiCall(
  run: RunContext,
  event: ObjectAclApiCallEvent,
  report: RunReport,
): Promise<void> {
  await report.bucket(
    await guardObjectAcl(run, { bucket: event.bucket, key: event.key, versionId: event.versionId }),
  );
}
