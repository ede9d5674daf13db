/**
 * The account's Block Public Access after a CloudTrail PutAccountPublicAccessBlock or
 * DeleteAccountPublicAccessBlock: read and record what it is, then (remediate mode) turn all four on.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { judgeBlockPublicAccess } from '../exposure';
import { readAccountBlockPublicAccess } from './account-state';
import { ActionRecord, restoreAccountBlockPublicAccess } from './actions';
import { describeError } from './aws-errors';
import { accountEvidenceKey, writeEvidence } from './evidence';
import { AccountNoticeInput } from './notice';
import { GuardMode } from './settings';

/** What guarding the account needs from the invocation. */
export interface AccountGuardContext {
  readonly s3: S3Client;
  readonly s3Control: S3ControlClient;
  readonly mode: GuardMode;
  readonly evidenceBucket?: string;
  readonly now: Date;
  readonly evidenceId: string;
  readonly trigger: string;
  readonly callerArn?: string;
  readonly region?: string;
}

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
 * const outcome = await guardAccount(context, '123456789012');
 */
export async function guardAccount(context: AccountGuardContext, accountId: string): Promise<AccountOutcome> {
  const before = await readAccountBlockPublicAccess(context.s3Control, accountId);
  if (before.status === 'unreadable') {
    return { accountId, before, settingsOff: [], actions: [], needsNotice: true };
  }
  const verdict = judgeBlockPublicAccess(before.status === 'found' ? before.configuration : undefined);
  if (verdict.allOn) return { accountId, before, settingsOff: [], actions: [], needsNotice: false };
  if (context.mode === 'report') {
    return { accountId, before, settingsOff: verdict.settingsOff, actions: [], needsNotice: true };
  }
  const actions: ActionRecord[] = [];
  let evidenceUri: string | undefined;
  if (context.evidenceBucket !== undefined) {
    const key = accountEvidenceKey(accountId, context.now, context.evidenceId);
    const uri = `s3://${context.evidenceBucket}/${key}`;
    try {
      await writeEvidence(context.s3, context.evidenceBucket, key, {
        schema: 'registry-guard/evidence/v1',
        evidenceId: context.evidenceId,
        capturedAt: context.now.toISOString(),
        account: accountId,
        region: context.region,
        mode: context.mode,
        event: context.trigger,
        caller: context.callerArn,
        whatWasPublic: [`account-level Block Public Access off: ${verdict.settingsOff.join(', ')}`],
        before: { accountBlockPublicAccess: before.status === 'found' ? before.configuration : null },
      });
      evidenceUri = uri;
      actions.push({ kind: 'evidence', action: `Wrote evidence to ${uri}`, status: 'done', verified: false });
    } catch (error) {
      // Turning protection on loses nothing: the previous setting is still in the notice and the logs.
      actions.push({
        kind: 'evidence',
        action: `Write evidence to ${uri}`,
        status: 'failed',
        verified: false,
        detail: describeError(error),
      });
    }
  }
  actions.push(await restoreAccountBlockPublicAccess(context.s3Control, accountId));
  return { accountId, before, settingsOff: verdict.settingsOff, actions, evidenceUri, needsNotice: true };
}
