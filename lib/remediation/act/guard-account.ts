/**
 * The account's Block Public Access after a CloudTrail PutAccountPublicAccessBlock or
 * DeleteAccountPublicAccessBlock: read and record what it is, then (remediate mode) turn all four on.
 */
import { judgeBlockPublicAccess } from '../../exposure';
import { readAccountBlockPublicAccess } from '../read/account-state';
import { ActionRecord, restoreAccountBlockPublicAccess } from './actions';
import { accountEvidenceKey, EvidenceRef, recordEvidence } from './evidence';
import { AccountNoticeInput } from '../report/notice';
import { RunContext } from '../run-context';

/** What the guard found and did about the account: what the notice tells, and whether to send it. */
export interface AccountOutcome extends AccountNoticeInput {
  /** True when on-call must hear about it: a setting was off, or the setting could not be read. */
  readonly needsNotice: boolean;
}

/**
 * Reads the account's Block Public Access; when any setting is off, records the previous setting (evidence
 * object, when an evidence bucket is set) and, in remediate mode, turns all four on and reads them back.
 * An unreadable setting is reported, not changed: what it was could not be recorded.
 *
 * @example
 * const outcome = await guardAccount(run, '123456789012');
 */
export async function guardAccount(run: RunContext, accountId: string): Promise<AccountOutcome> {
  const before = await readAccountBlockPublicAccess(run.s3Control, accountId);
  if (before.status === 'unreadable') {
    return { accountId, before, settingsOff: [], actions: [], needsNotice: true };
  }
  const verdict = judgeBlockPublicAccess(before.status === 'found' ? before.configuration : undefined);
  if (verdict.allOn) return { accountId, before, settingsOff: [], actions: [], needsNotice: false };
  if (run.settings.mode === 'report') {
    return { accountId, before, settingsOff: verdict.settingsOff, actions: [], needsNotice: true };
  }
  const actions: ActionRecord[] = [];
  let evidence: EvidenceRef | undefined;
  const evidenceBucket = run.settings.evidenceBucket;
  if (evidenceBucket !== undefined) {
    const now = run.now();
    const evidenceId = run.newId();
    const key = accountEvidenceKey(accountId, now, evidenceId);
    // Turning protection on loses nothing if this fails: the previous setting is in the notice and the logs.
    const recorded = await recordEvidence(run.s3, evidenceBucket, key, {
      schema: 'registry-guard/evidence/v1',
      evidenceId,
      capturedAt: now.toISOString(),
      account: accountId,
      region: run.region,
      mode: run.settings.mode,
      event: run.trigger,
      caller: run.callerArn,
      whatWasPublic: [`account-level Block Public Access off: ${verdict.settingsOff.join(', ')}`],
      before: { accountBlockPublicAccess: before.status === 'found' ? before.configuration : null },
    });
    evidence = recorded.evidence;
    actions.push(recorded.action);
  }
  actions.push(await restoreAccountBlockPublicAccess(run.s3Control, accountId));
  return { accountId, before, settingsOff: verdict.settingsOff, actions, evidence, needsNotice: true };
}
