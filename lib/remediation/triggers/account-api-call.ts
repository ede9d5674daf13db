/**
 * CloudTrail says someone changed the account's Block Public Access.
 */
import { guardAccount } from '../act/guard-account';
import { AccountApiCallEvent } from '../events';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/**
 * @example
 * await onAccountApiCall(run, event, report);
 */
export async function onAccountApiCall(
  run: RunContext,
  event: AccountApiCallEvent,
  report: RunReport,
): Promise<void> {
  await report.accountBlockPublicAccess(await guardAccount(run, event.accountId));
}
