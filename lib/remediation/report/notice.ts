/**
 * The on-call notice: plain text a person reads on a phone, in the order docs/runbook.md explains it.
 */
import { AccountBlockPublicAccessReading } from '../read/account-state';
import { ActionRecord } from '../act/actions';
import { EvidenceRef } from '../act/evidence';
import { BucketOutcome } from './outcome';
import { RunContext } from '../run-context';
import { GuardMode } from '../settings';
import type { ChatNotice } from './chatbot';
import { oneLine } from './one-line';
import { restoreCommandFor } from './restore-command';

/** SNS limits a subject to 100 characters. */
export const MAX_SUBJECT_LENGTH = 100;
/** Where the notice sends the reader next. */
export const RUNBOOK = 'docs/runbook.md';

/** A notice ready to publish. */
export interface Notice {
  /** At most {@link MAX_SUBJECT_LENGTH} characters, ASCII, one line. */
  readonly subject: string;
  readonly message: string;
  /** SNS message attributes, for subscription filter policies. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * The notice's chat form (AWS Chatbot), composed with it; without one, the chat form is made from the
   * subject and text (chatbot.ts). Published beside the text by sns-message.ts.
   */
  readonly chat?: ChatNotice;
}

/** What a notice says about the invocation besides the bucket itself. */
export interface NoticeContext {
  readonly accountId?: string;
  readonly region?: string;
  readonly mode: GuardMode;
  /** Set when GUARD_MODE was not understood. */
  readonly modeWarning?: string;
  /** What triggered the guard. */
  readonly trigger: string;
  /** For CloudTrail events, who made the change. */
  readonly callerArn?: string;
}

/**
 * What a notice says about the run besides the bucket itself.
 *
 * @example
 * const context = noticeContextOf(run);
 */
export function noticeContextOf(run: RunContext): NoticeContext {
  return {
    accountId: run.accountId,
    region: run.region,
    mode: run.settings.mode,
    modeWarning: run.settings.modeWarning,
    trigger: run.trigger,
    callerArn: run.callerArn,
  };
}

/**
 * Composes the notice for one bucket: what was public and why, what was done and whether it was verified,
 * where the evidence is and how to restore from it.
 *
 * @example
 * const notice = composeBucketNotice(outcome, { accountId: '123456789012', region: 'eu-west-1', mode: 'remediate', trigger: 'CloudTrail PutBucketPolicy' });
 * notice.subject; // 'registry-guard: closed public registry bucket roll'
 */
export function composeBucketNotice(outcome: BucketOutcome, context: NoticeContext): Notice {
  const remediation = outcome.remediation;
  const lines: string[] = [];
  if (remediation?.stillPublic === true) {
    lines.push(
      `STILL PUBLIC: the guard could not close ${outcome.bucket}; the public can still reach it. Close it by hand now (runbook, "Still public").`,
      '',
    );
  }
  if (outcome.registryTagRemoved === true) {
    lines.push(
      'REGISTRY UNMARKED: the registry classification tag was removed or changed. The guard keeps treating the ' +
        'bucket as a registry until the deployment releases it (runbook, "Registry unmarked").',
      '',
    );
  }
  if (outcome.externalAccess !== undefined && outcome.externalAccess.length > 0) {
    lines.push(
      'EXTERNAL ACCESS: the registry’s bucket policy grants access outside its zone of trust (its account, and the ' +
        'organization and accounts the deployment trusts). AWS does not call it public, so the guard removed none ' +
        'of it: judge it and remove it yourself if it is not intended (runbook, "External access").',
      ...bullets(outcome.externalAccess),
      '',
    );
  }
  if (outcome.exemption !== undefined) {
    lines.push(
      `EXEMPTION IN USE: the bucket is public on purpose until ${outcome.exemption.expires}: "${oneLine(outcome.exemption.reason)}". ` +
        'Check that someone entitled to decide this did (runbook, "Exemptions").',
      '',
    );
  }
  if (remediation?.loop !== undefined) {
    lines.push(
      `LOOP: the guard remediated this bucket ${remediation.loop.remediationsInLastHour} times in the last hour. ` +
        'Something keeps reopening it: find and stop it first (runbook, step 2).',
      '',
    );
  }
  lines.push(
    `Bucket: ${outcome.bucket}`,
    `Account: ${context.accountId ?? 'unknown'}`,
    `Region: ${context.region ?? 'unknown'}`,
    `Registry bucket: ${outcome.isRegistry === undefined ? 'unknown' : outcome.isRegistry ? 'yes' : 'no'}`,
    `Trigger: ${context.trigger}`,
  );
  if (context.callerArn !== undefined) lines.push(`Changed by: ${context.callerArn}`);
  lines.push(...modeLines(context));
  if (remediation?.incident.role === 'owner' && remediation.incident.reopened) {
    lines.push('Reopened: the bucket was closed in this same state before, and someone opened it again.');
  }
  if (outcome.unverifiable !== undefined) {
    lines.push(
      '',
      `Could not verify: ${oneLine(outcome.unverifiable)}.`,
      remediation === undefined
        ? 'Treat the bucket as possibly public: it was reported NON_COMPLIANT and nothing was changed.'
        : 'Treat the bucket as possibly public: it was reported NON_COMPLIANT. The guard was refused a read, so it ' +
            'turned on Block Public Access, which only tightens, and left what it could not read alone.',
    );
  }
  if (outcome.problems.length > 0) lines.push('', 'Why it is non-compliant:', ...bullets(outcome.problems));
  if (outcome.reliesOnAccountBlockPublicAccess === true) lines.push(...accountNuanceLines(outcome));
  if (outcome.reasons.length > 0) lines.push('', 'What was public:', ...bullets(outcome.reasons));
  if (outcome.notes.length > 0) lines.push('', 'Notes:', ...bullets(outcome.notes));
  if (remediation !== undefined) {
    lines.push('', 'What was done:', ...bullets(remediation.actions.map(describeAction)));
    if (remediation.loopDetectionUnavailable !== undefined) {
      lines.push(`Loop detection unavailable: ${remediation.loopDetectionUnavailable}.`);
    }
  } else if (outcome.unverifiable === undefined && outcome.exemption === undefined) {
    lines.push('', 'What was done:', `- Nothing: ${outcome.whyUnchanged ?? 'report mode'}.`);
  }
  if (remediation?.evidence !== undefined) {
    lines.push('', ...evidenceLines(remediation.evidence), ...restoreRecipe(outcome, remediation.evidence));
    for (const replaced of remediation.replaced) {
      lines.push(
        `Changed while being closed: the state the rewrite replaced is in ${replaced.uri}` +
          `${replaced.versionId === undefined ? '' : ` (version ${replaced.versionId})`}, sha256 ${replaced.sha256}; ` +
          'restore from its "replaced" field instead.',
      );
    }
  } else if (remediation !== undefined) {
    lines.push('', 'Evidence: none written, so the bucket policy and ACL were left for a human to fix.');
    if (remediation.previousBlockPublicAccess !== undefined) {
      lines.push(
        `Previous bucket-level Block Public Access (recorded nowhere else): ${
          remediation.previousBlockPublicAccess === null
            ? 'none configured (all off)'
            : JSON.stringify(remediation.previousBlockPublicAccess)
        }`,
      );
    }
  }
  lines.push('', `Runbook: ${RUNBOOK}`);
  const prefix =
    (remediation?.stillPublic === true ? 'STILL PUBLIC ' : '') +
    (remediation?.loop !== undefined ? '[LOOP] ' : '');
  return {
    subject: subjectLine(`${prefix}registry-guard: ${headline(outcome)}`),
    message: lines.join('\n'),
    attributes: {
      bucket: outcome.bucket,
      compliance: outcome.compliance,
      registry: outcome.isRegistry === true ? 'yes' : 'no',
      mode: context.mode,
    },
  };
}

/**
 * The notice held while the guard acts on a bucket, delivered only if the invocation stops before it can
 * send the real one: what was found, and that the outcome is unknown.
 *
 * @example
 * composeInterruptedNotice(outcomeBeforeActing, context, 's3://guard-evidence/roll/2026-...json').subject;
 * // 'registry-guard: INTERRUPTED while closing registry bucket roll'
 */
export function composeInterruptedNotice(
  outcome: BucketOutcome,
  context: NoticeContext,
  evidenceUri: string | undefined,
): Notice {
  const kind = outcome.isRegistry === true ? 'registry bucket' : 'bucket';
  const lines = [
    `INTERRUPTED: the guard found ${outcome.bucket} non-compliant and began closing it, but the invocation ` +
      'stopped before it reported what it did. The bucket may be closed, partly closed or still open: check it ' +
      'now (runbook, "Interrupted").',
    '',
    `Bucket: ${outcome.bucket}`,
    `Account: ${context.accountId ?? 'unknown'}`,
    `Region: ${context.region ?? 'unknown'}`,
    `Registry bucket: ${outcome.isRegistry === true ? 'yes' : 'no'}`,
    `Trigger: ${context.trigger}`,
  ];
  if (context.callerArn !== undefined) lines.push(`Changed by: ${context.callerArn}`);
  if (outcome.problems.length > 0) lines.push('', 'Why it is non-compliant:', ...bullets(outcome.problems));
  if (outcome.reasons.length > 0) lines.push('', 'What was public:', ...bullets(outcome.reasons));
  if (evidenceUri !== undefined) {
    lines.push('', `Evidence (if it was written before the stop): ${evidenceUri}`);
  }
  lines.push('', `Runbook: ${RUNBOOK}`);
  return {
    subject: subjectLine(`registry-guard: INTERRUPTED while closing ${kind} ${outcome.bucket}`),
    message: lines.join('\n'),
    attributes: {
      bucket: outcome.bucket,
      compliance: outcome.compliance,
      registry: outcome.isRegistry === true ? 'yes' : 'no',
      mode: context.mode,
    },
  };
}

/** Where the evidence is, pinned so nobody restores a later, forged version. */
function evidenceLines(evidence: EvidenceRef): string[] {
  return [
    `Evidence: ${evidence.uri}`,
    `Evidence version: ${evidence.versionId ?? 'none (the evidence bucket is not versioned: this copy is not pinned)'}`,
    `Evidence SHA-256: ${evidence.sha256}`,
  ];
}

/** What the guard found and did about the account's Block Public Access. */
export interface AccountNoticeInput {
  readonly accountId: string;
  readonly before: AccountBlockPublicAccessReading;
  /** Settings found off; empty when the reading failed. */
  readonly settingsOff: readonly string[];
  readonly actions: readonly ActionRecord[];
  /** The evidence object of the previous setting, pinned. */
  readonly evidence?: EvidenceRef;
}

/**
 * Composes the notice for a change to the account's Block Public Access.
 *
 * @example
 * composeAccountNotice({ accountId: '123456789012', before: { status: 'none' }, settingsOff: ['BlockPublicAcls'], actions: [] }, context);
 */
export function composeAccountNotice(input: AccountNoticeInput, context: NoticeContext): Notice {
  const lines = [
    `Account: ${input.accountId}`,
    `Region: ${context.region ?? 'unknown'}`,
    `Trigger: ${context.trigger}`,
  ];
  if (context.callerArn !== undefined) lines.push(`Changed by: ${context.callerArn}`);
  lines.push(...modeLines(context));
  let headlineText: string;
  if (input.before.status === 'unreadable') {
    headlineText = `could not verify account ${input.accountId} Block Public Access`;
    lines.push(
      '',
      `Could not verify: S3 Control GetPublicAccessBlock failed: ${oneLine(input.before.error)}.`,
      'Nothing was changed. Treat every bucket in the account as relying on its own settings.',
    );
  } else {
    const previous =
      input.before.status === 'found' ? JSON.stringify(input.before.configuration) : 'none (all off)';
    headlineText =
      input.actions.some((action) => action.status === 'failed') || context.mode === 'report'
        ? `account ${input.accountId} Block Public Access is off`
        : `restored account ${input.accountId} Block Public Access`;
    lines.push(
      '',
      `Account-level Block Public Access settings off: ${input.settingsOff.join(', ')}`,
      `Previous setting: ${previous}`,
    );
    lines.push('', 'What was done:', ...bullets(input.actions.map(describeAction)));
    if (input.actions.length === 0) lines.push('- Nothing: report mode.');
    if (input.evidence !== undefined) lines.push('', ...evidenceLines(input.evidence));
    if (input.before.status === 'found' && context.mode === 'remediate') {
      const settings = Object.entries(input.before.configuration)
        .map(([setting, on]) => `${setting}=${on === true}`)
        .join(',');
      lines.push(
        'Restore the previous setting (only if it was intended):',
        `  aws s3control put-public-access-block --account-id ${input.accountId} --public-access-block-configuration ${settings}`,
      );
    }
  }
  lines.push('', `Runbook: ${RUNBOOK}`);
  return {
    subject: subjectLine(`registry-guard: ${headlineText}`),
    message: lines.join('\n'),
    attributes: { account: input.accountId, mode: context.mode },
  };
}

/**
 * One line per action: what, how it ended, whether it was read back.
 *
 * @example
 * describeAction({ kind: 'block-public-access', action: 'Turned on all four bucket-level Block Public Access settings', status: 'done', verified: true });
 * // 'Turned on all four bucket-level Block Public Access settings: done, verified by reading it back'
 */
export function describeAction(record: ActionRecord): string {
  const status =
    record.status === 'done'
      ? record.verified
        ? 'done, verified by reading it back'
        : record.kind === 'evidence'
          ? 'done'
          : 'done, NOT verified'
      : record.status === 'failed'
        ? 'FAILED'
        : 'not done';
  return `${record.action}: ${status}${record.detail === undefined ? '' : ` (${record.detail})`}`;
}

function headline(outcome: BucketOutcome): string {
  const kind = outcome.isRegistry === true ? 'registry bucket' : 'bucket';
  if (outcome.unverifiable !== undefined) return `could not verify bucket ${outcome.bucket}`;
  if (outcome.exemption !== undefined)
    return `exempt bucket ${outcome.bucket} is public until ${outcome.exemption.expires}`;
  const remediation = outcome.remediation;
  if (remediation?.stillPublic === true) return `could not close ${kind} ${outcome.bucket}`;
  if (outcome.registryTagRemoved === true && remediation === undefined) {
    return `registry bucket ${outcome.bucket} lost its classification tag`;
  }
  if (remediation === undefined) return `non-compliant ${kind} ${outcome.bucket} (report mode, not changed)`;
  if (remediation.actions.some((action) => action.status === 'failed')) {
    return `FAILED to fully close ${kind} ${outcome.bucket}`;
  }
  return `closed non-compliant ${kind} ${outcome.bucket}`;
}

/** A registry bucket that only the account setting keeps from the public: not an emergency, still a fix. */
function accountNuanceLines(outcome: BucketOutcome): string[] {
  return [
    '',
    'Not reachable by the public now: account-level Block Public Access is fully on.',
    outcome.remediation === undefined
      ? 'Report mode: not closed at bucket level, so the registry depends on the account setting until someone closes it.'
      : 'Closed at bucket level anyway, so the registry does not depend on the account setting (see What was done).',
  ];
}

/** The mode, and the warning when GUARD_MODE was not understood. */
export function modeLines(context: NoticeContext): string[] {
  const lines = [`Mode: ${context.mode}${context.mode === 'report' ? ' (nothing was changed)' : ''}`];
  if (context.modeWarning !== undefined) lines.push(`WARNING: ${context.modeWarning}`);
  return lines;
}

/**
 * How to put back what the guard removed: first the one `registry-guard restore` command (a dry run until
 * `--apply`), then the same by hand with the AWS CLI as a fallback. Both are pinned to the evidence object's
 * version and checked against its SHA-256: a later version (or a forged copy) is refused instead of restored.
 */
function restoreRecipe(outcome: BucketOutcome, evidence: EvidenceRef): string[] {
  const actions = outcome.remediation?.actions ?? [];
  const changed = (kind: ActionRecord['kind']): boolean =>
    actions.some((action) => action.kind === kind && action.status === 'done');
  const version = evidence.versionId === undefined ? '' : ` --version-id ${evidence.versionId}`;
  const lines = [
    'Restore (only if the change was intended; read the runbook first). Shows the difference; add --apply to restore:',
    `  ${restoreCommandFor(evidence)}`,
    'Or by hand with the AWS CLI:',
    `  aws s3api get-object --bucket ${evidence.bucket} --key ${evidence.key}${version} evidence.json`,
    `  echo "${evidence.sha256}  evidence.json" | sha256sum -c -   # stop here unless it says OK`,
  ];
  if (changed('policy')) {
    lines.push(
      `  jq -r '.before.policy' evidence.json > policy.json`,
      `  aws s3api put-bucket-policy --bucket ${outcome.bucket} --policy file://policy.json`,
    );
  }
  if (changed('acl')) {
    lines.push(
      `  jq '.before.acl | {Owner, Grants}' evidence.json > acl.json`,
      `  aws s3api put-bucket-acl --bucket ${outcome.bucket} --access-control-policy file://acl.json`,
    );
  }
  if (changed('access-point-policy')) {
    lines.push(
      `  jq -r '.before.accessPoint.policy' evidence.json > policy.json`,
      `  aws s3control put-access-point-policy --account-id "$(jq -r .account evidence.json)" --name "$(jq -r .before.accessPoint.name evidence.json)" --policy file://policy.json`,
    );
  }
  if (changed('object-acl')) {
    lines.push(
      `  jq '.before.object.acl | {Owner, Grants}' evidence.json > acl.json`,
      `  aws s3api put-object-acl --bucket ${outcome.bucket} --key "$(jq -r .before.object.key evidence.json)" --access-control-policy file://acl.json   # add --version-id from .before.object.versionId when set`,
    );
  }
  if (changed('block-public-access')) {
    lines.push(
      `  jq '.before.blockPublicAccess' evidence.json   # the previous Block Public Access (runbook, step 3)`,
    );
  }
  return lines;
}

function bullets(items: readonly string[]): string[] {
  return items.map((item) => `- ${item}`);
}

/** SNS subjects: one line, printable ASCII, at most 100 characters (longer ones end in "..."). */
export function subjectLine(text: string): string {
  const ascii = text.replace(/[^\x20-\x7E]/g, '?');
  return ascii.length <= MAX_SUBJECT_LENGTH ? ascii : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}
