/**
 * The account's Block Public Access at deploy time: what the guard answers CloudFormation for the custom
 * resource of type `Custom::RegistryGuardAccountBlockPublicAccess`. The work itself is `guardAccount`'s,
 * exactly as after drift; these plain functions turn what it found and did into the answer.
 *
 * - Create and Update turn all four settings on (reading first: an AWS Organizations S3 policy makes the
 *   setting read all on and denies any account-level write, so nothing is written when it is already on).
 * - Delete changes nothing: removing the guard never loosens access.
 * - Anything short of "all four on and read back" is FAILED, with a one-line reason.
 */
import { describeError } from '../aws-errors';
import { CloudFormationResponse } from './cloudformation-response';
import { InvalidCustomResourceRequestError } from '../errors';
import { AccountBlockPublicAccessRequestEvent } from '../events';
import { AccountOutcome } from '../act/guard-account';
import { GuardMode } from '../settings';

/** Every physical id the guard gives the resource starts with this. */
export const ACCOUNT_BLOCK_PUBLIC_ACCESS_PHYSICAL_ID_PREFIX = 'registry-guard-account-block-public-access-';

/**
 * The resource's physical id: one per account, the same on Create and Update, so an Update never makes
 * CloudFormation delete the "old" resource.
 *
 * @example
 * accountBlockPublicAccessPhysicalId('123456789012'); // 'registry-guard-account-block-public-access-123456789012'
 */
export function accountBlockPublicAccessPhysicalId(accountId: string): string {
  return `${ACCOUNT_BLOCK_PUBLIC_ACCESS_PHYSICAL_ID_PREFIX}${accountId}`;
}

/**
 * The answer to a Create or Update from what `guardAccount` found and did. SUCCESS only when all
 * four settings are on: found so, or turned on and read back. Report mode is always FAILED, never a silent
 * pass: the guard changes nothing there, so it cannot promise the setting.
 *
 * @example
 * const outcome = await guardAccount(context, request.accountId);
 * const response = answerAccountBlockPublicAccess(outcome, 'remediate');
 * response.data.SettingsTurnedOn; // 'BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets'
 */
export function answerAccountBlockPublicAccess(
  outcome: AccountOutcome,
  mode: GuardMode,
): CloudFormationResponse {
  const account = `Account ${outcome.accountId}`;
  const failed = (reason: string): CloudFormationResponse => ({
    status: 'FAILED',
    reason: `${account}: ${reason}`,
    physicalResourceId: accountBlockPublicAccessPhysicalId(outcome.accountId),
    data: {},
  });
  if (mode === 'report') {
    return failed(
      `registry-guard is in report mode and changes nothing, so it cannot turn on account-level Block ` +
        `Public Access (${describeReading(outcome)}). Deploy the guard in remediate mode, or without ` +
        `enforceAccountBlockPublicAccess.`,
    );
  }
  if (outcome.before.status === 'unreadable') {
    return failed(
      `could not read account-level Block Public Access (${outcome.before.error}), so nothing was changed`,
    );
  }
  if (outcome.settingsOff.length === 0) {
    return {
      status: 'SUCCESS',
      reason: `${account}: account-level Block Public Access was already all on; nothing changed`,
      physicalResourceId: accountBlockPublicAccessPhysicalId(outcome.accountId),
      data: { SettingsTurnedOn: 'none' },
    };
  }
  const restore = outcome.actions.find((action) => action.kind === 'account-block-public-access');
  if (restore === undefined) {
    return failed(
      `account-level Block Public Access is off (${outcome.settingsOff.join(', ')}) and was not changed`,
    );
  }
  if (restore.status !== 'done') {
    return failed(`turning on account-level Block Public Access failed: ${restore.detail ?? restore.status}`);
  }
  if (!restore.verified) {
    return failed(
      `turned on account-level Block Public Access but could not verify it: ${restore.detail ?? 'not read back'}`,
    );
  }
  const evidence =
    outcome.evidence === undefined
      ? `no evidence written (${whyNoEvidence(outcome)})`
      : `previous setting kept in ${outcome.evidence.uri}${outcome.evidence.versionId === undefined ? '' : ` version ${outcome.evidence.versionId}`}`;
  return {
    status: 'SUCCESS',
    reason:
      `${account}: turned on account-level Block Public Access (${outcome.settingsOff.join(', ')}), ` +
      `verified by reading it back; ${evidence}`,
    physicalResourceId: accountBlockPublicAccessPhysicalId(outcome.accountId),
    data: {
      SettingsTurnedOn: outcome.settingsOff.join(','),
      ...(outcome.evidence === undefined
        ? {}
        : {
            EvidenceUri: outcome.evidence.uri,
            EvidenceSha256: outcome.evidence.sha256,
            ...(outcome.evidence.versionId === undefined
              ? {}
              : { EvidenceVersionId: outcome.evidence.versionId }),
          }),
    },
  };
}

/**
 * The answer to a Delete: SUCCESS, and nothing is read or changed. Turning account-level Block Public
 * Access off is never the guard's to do; a person who wants it off does it deliberately.
 *
 * @example
 * answerDeletion(request).status; // 'SUCCESS'
 */
export function answerDeletion(request: AccountBlockPublicAccessRequestEvent): CloudFormationResponse {
  return {
    status: 'SUCCESS',
    reason:
      `Account ${request.accountId}: nothing changed; removing registry-guard never loosens ` +
      'account-level Block Public Access',
    physicalResourceId: request.physicalResourceId ?? accountBlockPublicAccessPhysicalId(request.accountId),
    data: { SettingsTurnedOn: 'none' },
  };
}

/**
 * The answer to a request the guard does not serve. FAILED, with the problem as the reason, except for a
 * Delete: the guard made nothing it could undo, and a FAILED Delete would stop the very rollback that
 * follows a rejected Create (the stack would end in ROLLBACK_FAILED).
 *
 * @example
 * try {
 *   parseGuardEvent(request);
 * } catch (error) {
 *   if (error instanceof InvalidCustomResourceRequestError) await sendCloudFormationResponse(error.request, answerRejectedRequest(error));
 * }
 */
export function answerRejectedRequest(error: InvalidCustomResourceRequestError): CloudFormationResponse {
  const { request } = error;
  const physicalResourceId =
    request.physicalResourceId ?? accountBlockPublicAccessPhysicalId(request.accountId ?? 'unknown-account');
  if (request.requestType === 'Delete') {
    return {
      status: 'SUCCESS',
      reason: `registry-guard did nothing (${error.problem}); removing it never loosens access`,
      physicalResourceId,
      data: {},
    };
  }
  return {
    status: 'FAILED',
    reason: `registry-guard rejected the request: ${error.problem}`,
    physicalResourceId,
    data: {},
  };
}

/**
 * The answer when the guard itself failed while serving a request: FAILED, naming the error, so the stack
 * rolls back instead of waiting an hour for an answer. A Delete still succeeds: it has nothing to fail at.
 *
 * @example
 * answerFailure(request, new Error('boom')).reason; // 'Account 123456789012: registry-guard failed: Error: boom'
 */
export function answerFailure(
  request: AccountBlockPublicAccessRequestEvent,
  error: unknown,
): CloudFormationResponse {
  if (request.requestType === 'Delete') return answerDeletion(request);
  return {
    status: 'FAILED',
    reason: `Account ${request.accountId}: registry-guard failed: ${describeError(error)}`,
    physicalResourceId: accountBlockPublicAccessPhysicalId(request.accountId),
    data: {},
  };
}

/**
 * What triggered the guard, for a request it rejected: `CloudFormation Create of Custom::Other`.
 *
 * @example
 * describeRejectedRequest(error.request); // 'CloudFormation Create of Custom::Other'
 */
export function describeRejectedRequest(request: InvalidCustomResourceRequestError['request']): string {
  return `CloudFormation ${request.requestType ?? 'request'} of ${request.resourceType ?? 'an unnamed resource type'}`;
}

function describeReading(outcome: AccountOutcome): string {
  if (outcome.before.status === 'unreadable')
    return `its current setting could not be read: ${outcome.before.error}`;
  return outcome.settingsOff.length === 0
    ? 'it is all on already'
    : `off now: ${outcome.settingsOff.join(', ')}`;
}

function whyNoEvidence(outcome: AccountOutcome): string {
  const write = outcome.actions.find((action) => action.kind === 'evidence');
  return write === undefined
    ? 'no EVIDENCE_BUCKET is set'
    : `the write failed: ${write.detail ?? write.status}`;
}
