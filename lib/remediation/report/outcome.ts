/**
 * What the guard concluded and did for one bucket, and the one-line annotation AWS Config shows for it.
 */
import { ActionRecord } from '../act/actions';
import { IncidentClaim } from '../act/incident-claim';
import { MAX_ANNOTATION_LENGTH, truncate } from './evaluations';
import { ComplianceVerdict } from '../decide/decision';
import { RemediationOutcome } from '../act/remediate';

/** The guard's result for one bucket in one invocation. */
export interface BucketOutcome {
  readonly bucket: string;
  readonly compliance: ComplianceVerdict;
  /** Undefined when the bucket could not be read or was not looked at. */
  readonly isRegistry?: boolean;
  /** The guard knows the bucket as a registry but its classification tag is gone or changed. */
  readonly registryTagRemoved?: boolean;
  /** Set for an exempt (NOT_APPLICABLE) bucket: its exemption, and whether it is public now. */
  readonly exemption?: { readonly reason: string; readonly expires: string; readonly open: boolean };
  /** This invocation's part in the incident, when there is one (something to close or to tell). */
  readonly incident?: IncidentClaim;
  /** The pending-notice record held while acting, which the real notice replaces. */
  readonly heldNoticeKey?: string;
  /** Why the bucket is NON_COMPLIANT, in short phrases. */
  readonly problems: readonly string[];
  /** Each way in, as the exposure judgement words it (`exposure.reasons`). */
  readonly reasons: readonly string[];
  /** Everything else worth saying: exemptions, neutralised grants, out of scope, gone. */
  readonly notes: readonly string[];
  /**
   * True when the public cannot reach the registry bucket now only because all four account-level Block
   * Public Access settings are on while some of its own are off (see `BucketDecision`).
   */
  readonly reliesOnAccountBlockPublicAccess?: boolean;
  /** Set when the bucket could not be read: what failed and why. Such a bucket is never COMPLIANT. */
  readonly unverifiable?: string;
  /** What remediation did; absent in report mode or when nothing needed doing. */
  readonly remediation?: RemediationOutcome;
  /**
   * A registry's policy statements granting outside its zone of trust without being public, as
   * `statement 2 (Sid "Partner"): why`: paged, never removed by the guard.
   */
  readonly externalAccess?: readonly string[];
  /** Why nothing was changed on a NON_COMPLIANT bucket in remediate mode. @default report mode */
  readonly whyUnchanged?: string;
  /**
   * Set when the outcome judged a way into the bucket, not the bucket's own settings (see {@link WayIn}):
   * what Security Hub findings are about, and which later judgement resolves them. @default the bucket's own
   */
  readonly wayIn?: WayIn;
  /** The annotation for AWS Config, at most 256 characters. */
  readonly annotation: string;
}

/**
 * A way into a bucket other than its own settings: an access point, a Multi-Region Access Point or one
 * object's ACL. With `bucketUnknown`, the way in could not be read (or is gone), so the outcome's `bucket`
 * is only a label; `access-points` and `multi-region-access-points` stand for all of the account's, when
 * listing them failed.
 */
export type WayIn =
  | {
      readonly kind: 'access-point' | 'multi-region-access-point';
      readonly name: string;
      /** A Multi-Region Access Point's alias (what its ARN names), when it was read. */
      readonly alias?: string;
      readonly bucketUnknown?: boolean;
    }
  | { readonly kind: 'object-acl'; readonly key: string; readonly versionId?: string }
  | { readonly kind: 'access-points' | 'multi-region-access-points'; readonly accountId: string };

/**
 * The annotation's words for a bucket that only the account setting keeps from the public: short, since
 * they go between the problems and what was done, and all three must fit in 256 characters.
 */
export const RELIES_ON_ACCOUNT_ANNOTATION = 'not public now: account-level Block Public Access is fully on';

/**
 * True when on-call must hear about the bucket: something was public, changed, or could not be verified
 * (all NON_COMPLIANT), or an exemption was just used to make a bucket public (a change event found it open:
 * adding an exemption pages). Only once per incident: a duplicate of an incident another invocation owns
 * is told by that one. A compliant or vanished bucket, or an exempt one seen by a sweep, pages nobody.
 *
 * @example
 * if (needsNotice(outcome)) await publishNotice(sns, topicArn, composeBucketNotice(outcome, context));
 */
export function needsNotice(outcome: BucketOutcome): boolean {
  if (outcome.incident?.role === 'duplicate') return false;
  if (outcome.compliance === 'NON_COMPLIANT') return true;
  return outcome.exemption?.open === true && outcome.incident !== undefined;
}

/**
 * True when the bucket was acted on and is still reachable by the public: the invocation must fail, so the
 * dead-letter queue and the errors alarm see it, whatever the notice's fate.
 */
export function isStillPublic(outcome: BucketOutcome): boolean {
  return outcome.remediation?.stillPublic === true;
}

/**
 * Writes the annotation, at most 256 characters: the loop flag and the verdict first, so truncation only
 * ever cuts detail. A registry bucket that only the account setting keeps from the public says so between
 * its problems and what was done.
 *
 * @example
 * composeAnnotation({ compliance: 'COMPLIANT', isRegistry: false, problems: [], reasons: [], notes: [] });
 * // 'Not public.'
 */
export function composeAnnotation(outcome: Omit<BucketOutcome, 'annotation' | 'bucket'>): string {
  if (outcome.unverifiable !== undefined) {
    return truncate(
      `Could not be verified, so treated as non-compliant: ${outcome.unverifiable}.`,
      MAX_ANNOTATION_LENGTH,
    );
  }
  const parts: string[] = [];
  switch (outcome.compliance) {
    case 'NOT_APPLICABLE':
      parts.push(...outcome.notes);
      break;
    case 'COMPLIANT':
      parts.push(
        outcome.isRegistry === true
          ? 'Registry bucket: no public grant, Block Public Access all on'
          : 'Not public',
        ...outcome.notes,
      );
      break;
    case 'NON_COMPLIANT': {
      if (outcome.remediation?.stillPublic === true) parts.push('STILL PUBLIC');
      const loop = outcome.remediation?.loop;
      if (loop !== undefined)
        parts.push(`LOOP: remediated ${loop.remediationsInLastHour} times in the last hour`);
      parts.push(outcome.problems.join(', '));
      if (outcome.reliesOnAccountBlockPublicAccess === true) parts.push(RELIES_ON_ACCOUNT_ANNOTATION);
      parts.push(
        outcome.remediation === undefined
          ? (outcome.whyUnchanged ?? 'report mode: nothing changed')
          : `remediated: ${outcome.remediation.actions
              .map(shortAction)
              .filter((text) => text !== '')
              .join(', ')}`,
      );
      parts.push(...outcome.notes, ...outcome.reasons);
      break;
    }
  }
  return truncate(capitalise(`${parts.filter((part) => part !== '').join('; ')}.`), MAX_ANNOTATION_LENGTH);
}

/** A few words per action: the annotation has room for little else. */
function shortAction(record: ActionRecord): string {
  const names: Record<ActionRecord['kind'], [done: string, skippedText: string, failed: string]> = {
    evidence: ['evidence saved', '', 'evidence write FAILED'],
    'block-public-access': ['Block Public Access on', '', 'Block Public Access FAILED'],
    'account-block-public-access': [
      'account Block Public Access on',
      '',
      'account Block Public Access FAILED',
    ],
    policy: ['public statements removed', 'policy left for a human', 'policy rewrite FAILED'],
    acl: ['public grants removed', 'ACL left as is', 'ACL rewrite FAILED'],
    'access-point-policy': [
      'access point public statements removed',
      'access point policy left for a human',
      'access point policy rewrite FAILED',
    ],
    'object-acl': ['public object grants removed', 'object ACL left as is', 'object ACL rewrite FAILED'],
  };
  const [done, skippedText, failed] = names[record.kind];
  if (record.status === 'skipped') return skippedText;
  if (record.status === 'failed') return failed;
  if (record.kind === 'evidence') return done;
  return `${done} (${record.verified ? 'verified' : 'unverified'})`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The outcome of a bucket whose state could not be read or judged: NON_COMPLIANT, never COMPLIANT, with
 * `unverifiable` saying why, so on-call treats it as possibly public.
 */
export function unverifiableOutcome(bucket: string, unverifiable: string): BucketOutcome {
  const partial = {
    compliance: 'NON_COMPLIANT',
    problems: [],
    reasons: [],
    notes: [],
    unverifiable,
  } as const;
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}
