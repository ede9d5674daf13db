/**
 * What `registry-guard restore` prints: the difference between the live settings and the record
 * (`-` live now, `+` what the record holds), and what was or would be done. Text for people, JSON for scripts.
 */
import { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import { BLOCK_PUBLIC_ACCESS_SETTINGS, judgeBlockPublicAccess } from '../exposure';
import { BucketAcl } from '../remediation/read/bucket-state';
import { escapeControlCharacters } from './input-error';
import { grantLine, RestorePlan, SettingChange } from './restore-diff';
import { VerifiedEvidence } from './restore-evidence';
import { RegistryStatus } from './restore-live';

/** The exemption tags a restore writes (or would write) first. */
export interface ExemptionTags {
  readonly reason: string;
  /** `YYYY-MM-DD`, the last day it holds (UTC). */
  readonly expires: string;
}

/** Everything a run found and did, for printing. */
export interface RestoreReport {
  readonly mode: 'dry-run' | 'apply';
  readonly evidence: VerifiedEvidence;
  readonly registry: RegistryStatus;
  readonly plan: RestorePlan;
  readonly exemption?: ExemptionTags;
  /** What was changed, in order (apply mode). */
  readonly applied: readonly string[];
  /** Things the reader must know: the guard will close it again, no --sha256 was given, ... */
  readonly warnings: readonly string[];
  /** Set when the restore is refused by the public judgement: each public part. */
  readonly refusedPublic?: readonly string[];
  /** Set when a write failed (apply mode): nothing after it was tried. */
  readonly failure?: RestoreFailure;
  /** Set when the read-back after the writes finds settings differing from the record again. */
  readonly changedAgain?: readonly SettingChange['setting'][];
}

/** A failed write, and what reading the bucket again found about it. */
export interface RestoreFailure {
  /** What the write would have done. */
  readonly step: string;
  /** AWS's error, in one line. */
  readonly reason: string;
  /** What a fresh read of the live settings says about the write: in place, not in place, or unknown. */
  readonly readBack: string;
}

/** What each setting is called in the report: `policy` → `bucket policy`. */
export const SETTING_NAMES: Readonly<Record<SettingChange['setting'], string>> = {
  'block-public-access': 'bucket Block Public Access',
  policy: 'bucket policy',
  acl: 'bucket ACL',
  'access-point-policy': 'access point policy',
  'object-acl': 'object ACL',
};

/**
 * The text report. Every line has its control characters escaped: a record's strings cannot drive the
 * terminal.
 *
 * @example
 * io.stdout(renderRestoreText(report));
 */
export function renderRestoreText(report: RestoreReport): string {
  const { evidence, plan } = report;
  const record = evidence.record;
  const lines: string[] = [headline(report)];
  lines.push(
    `Evidence: ${evidence.location.uri}${evidence.versionId === undefined ? ' (unversioned bucket)' : `, version ${evidence.versionId}`}`,
    `  id ${record.evidenceId}, captured ${record.capturedAt}; ${evidence.checks.join('; ')}`,
    `Bucket: ${record.bucket}${record.account === undefined ? '' : ` (account ${record.account})`}: ${
      report.registry.isRegistry ? `REGISTRY (${report.registry.reasons.join('; ')})` : 'ordinary bucket'
    }`,
    `Target: ${targetOf(report)}`,
  );
  if (plan.changes.length === 0) {
    lines.push('', 'No difference: the live settings already match the record.');
  }
  for (const change of plan.changes)
    lines.push('', `${SETTING_NAMES[change.setting]} (- live now, + record):`, ...diffLines(change));
  if (plan.leftAlone.length > 0) lines.push('', 'Left alone:', ...plan.leftAlone.map((item) => `  ${item}`));
  if (report.exemption !== undefined) {
    const written = report.applied.some((step) => step.startsWith(EXEMPTION_STEP));
    lines.push(
      '',
      `Exemption ${written ? 'written' : report.mode === 'apply' ? 'NOT written' : 'to write'} first: registry-guard:public-exemption="${report.exemption.reason}", registry-guard:exemption-expires=${report.exemption.expires}`,
    );
  }
  if (report.refusedPublic !== undefined) {
    lines.push(
      '',
      'REFUSED: a registry bucket is never made public again. Public in what would be put back:',
    );
    lines.push(...report.refusedPublic.map((part) => `  ${part}`));
  }
  if (report.warnings.length > 0) lines.push('', ...report.warnings.map((warning) => `WARNING: ${warning}`));
  if (report.applied.length > 0) lines.push('', 'Done:', ...report.applied.map((step) => `  ${step}`));
  if (report.failure !== undefined) {
    lines.push(
      '',
      `FAILED: ${report.failure.step}: ${report.failure.reason}`,
      `  read back: ${report.failure.readBack}`,
    );
  }
  if (report.changedAgain !== undefined) {
    lines.push(
      '',
      `CHANGED AGAIN: read back after the restore, these differ from the record: ${report.changedAgain.map((setting) => SETTING_NAMES[setting]).join(', ')}`,
    );
  }
  return `${lines.map(escapeControlCharacters).join('\n')}\n`;
}

/**
 * The JSON report: one object, always valid JSON.
 *
 * @example
 * JSON.parse(renderRestoreJson(report)).changes[0].setting; // 'block-public-access'
 */
export function renderRestoreJson(report: RestoreReport): string {
  const { evidence } = report;
  return `${JSON.stringify(
    {
      mode: report.mode,
      outcome: outcomeOf(report),
      evidence: {
        uri: evidence.location.uri,
        versionId: evidence.versionId,
        sha256: evidence.sha256,
        checks: evidence.checks,
        evidenceId: evidence.record.evidenceId,
        capturedAt: evidence.record.capturedAt,
        kind: evidence.record.kind,
      },
      bucket: evidence.record.bucket,
      registry: report.registry,
      changes: report.plan.changes,
      leftAlone: report.plan.leftAlone,
      exemption: report.exemption,
      refusedPublic: report.refusedPublic,
      applied: report.applied,
      failure: report.failure,
      changedAgain: report.changedAgain,
      warnings: report.warnings,
    },
    null,
    2,
  )}\n`;
}

/** How {@link applyRestore}'s exemption step begins. */
const EXEMPTION_STEP = 'tagged the bucket exempt';

type Outcome = 'refused' | 'nothing-to-restore' | 'would-restore' | 'restored' | 'failed' | 'changed-again';

function outcomeOf(report: RestoreReport): Outcome {
  if (report.refusedPublic !== undefined) return 'refused';
  if (report.failure !== undefined) return 'failed';
  if (report.changedAgain !== undefined && report.changedAgain.length > 0) return 'changed-again';
  if (report.plan.changes.length === 0) return 'nothing-to-restore';
  return report.mode === 'apply' ? 'restored' : 'would-restore';
}

function headline(report: RestoreReport): string {
  const count = report.plan.changes.length;
  const settings = report.plan.changes.map((change) => SETTING_NAMES[change.setting]).join(', ');
  switch (outcomeOf(report)) {
    case 'refused':
      return 'registry-guard restore: REFUSED, nothing changed (registry bucket)';
    case 'nothing-to-restore':
      return `registry-guard restore: nothing to restore${report.mode === 'dry-run' ? ' (dry run)' : ''}`;
    case 'would-restore':
      return `registry-guard restore: DRY RUN, nothing changed. Would restore ${count} setting${count === 1 ? '' : 's'}: ${settings}. Add --apply to restore.`;
    case 'restored':
      return `registry-guard restore: RESTORED ${count} setting${count === 1 ? '' : 's'}: ${settings}`;
    case 'failed':
      return `registry-guard restore: FAILED after ${report.applied.length} write${report.applied.length === 1 ? '' : 's'}: ${report.failure?.step ?? ''} failed (see below)`;
    case 'changed-again':
      return `registry-guard restore: NOT RESTORED: ${report.applied.length} write${report.applied.length === 1 ? '' : 's'} done, but read back ${(report.changedAgain ?? []).map((setting) => SETTING_NAMES[setting]).join(', ')} differ from the record again`;
  }
}

function targetOf(report: RestoreReport): string {
  const record = report.evidence.record;
  switch (record.kind) {
    case 'bucket':
      return record.policy === undefined
        ? `bucket ${record.bucket}: Block Public Access only (the guard could not read the rest, and changed only that)`
        : `bucket ${record.bucket}: policy, ACL and Block Public Access`;
    case 'access-point':
      return `access point ${record.name} (bucket ${record.bucket}): its policy`;
    case 'object-acl':
      return `object s3://${record.bucket}/${record.key}${record.versionId === undefined ? '' : ` version ${record.versionId}`}: its ACL`;
  }
}

function diffLines(change: SettingChange): string[] {
  switch (change.setting) {
    case 'block-public-access':
      return blockPublicAccessLines(change.live, change.restored);
    case 'policy':
    case 'access-point-policy':
      return lineDiff(
        change.live === null ? ['(no policy)'] : prettyLines(change.live),
        prettyLines(change.restored),
      );
    case 'acl':
    case 'object-acl':
      return aclLines(change.live, change.restored);
  }
}

function blockPublicAccessLines(
  live: PublicAccessBlockConfiguration | null,
  restored: PublicAccessBlockConfiguration | null,
): string[] {
  const liveOn = judgeBlockPublicAccess(live).settingsOn;
  const restoredOn = judgeBlockPublicAccess(restored).settingsOn;
  const lines = BLOCK_PUBLIC_ACCESS_SETTINGS.flatMap((setting) => {
    const before = liveOn.includes(setting);
    const after = restoredOn.includes(setting);
    return before === after
      ? [`    ${setting}: ${before}`]
      : [`  - ${setting}: ${before}`, `  + ${setting}: ${after}`];
  });
  if (restored === null)
    lines.push('  (the record: no configuration; restored by removing it, which is all four off)');
  return lines;
}

function aclLines(live: BucketAcl, restored: BucketAcl): string[] {
  const liveGrants = (live.Grants ?? []).map(grantLine);
  const restoredGrants = (restored.Grants ?? []).map(grantLine);
  const liveSet = new Set(liveGrants);
  const restoredSet = new Set(restoredGrants);
  return [
    ...liveGrants.map((grant) => (restoredSet.has(grant) ? `    ${grant}` : `  - ${grant}`)),
    ...restoredGrants.filter((grant) => !liveSet.has(grant)).map((grant) => `  + ${grant}`),
  ];
}

/** A policy as indented JSON lines, so a diff shows statements; the raw text when it is not JSON. */
function prettyLines(text: string): string[] {
  try {
    return JSON.stringify(JSON.parse(text), null, 2).split('\n');
  } catch {
    return text.split('\n');
  }
}

/**
 * A linear line diff: the common first and last lines stay as context, everything between is `-` then `+`.
 * A removed or added statement, the guard's usual change, shows as exactly that block.
 */
export function lineDiff(live: readonly string[], restored: readonly string[]): string[] {
  let prefix = 0;
  while (prefix < live.length && prefix < restored.length && live[prefix] === restored[prefix]) prefix += 1;
  let suffix = 0;
  while (
    suffix < live.length - prefix &&
    suffix < restored.length - prefix &&
    live[live.length - 1 - suffix] === restored[restored.length - 1 - suffix]
  ) {
    suffix += 1;
  }
  return [
    ...live.slice(0, prefix).map((line) => `    ${line}`),
    ...live.slice(prefix, live.length - suffix).map((line) => `  - ${line}`),
    ...restored.slice(prefix, restored.length - suffix).map((line) => `  + ${line}`),
    ...live.slice(live.length - suffix).map((line) => `    ${line}`),
  ];
}
