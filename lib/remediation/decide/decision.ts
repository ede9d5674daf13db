/**
 * Decides one bucket's compliance from its live state. Pure: the judgement of "public" itself comes
 * from lib/exposure, and this module only applies the guard's policy on top of it.
 */
import { isRegistryClassificationTag, REGISTRY_CLASSIFICATION_TAG_KEY } from '../../classification';
import {
  BucketExposure,
  ExternalStatement,
  judgeBucketExposure,
  judgeExternalAccess,
  TrustZone,
} from '../../exposure';
import { AccountBlockPublicAccessReading } from '../read/account-state';
import { LiveBucketState } from '../read/bucket-state';
import { LedgerReading } from '../read/registry-ledger';
import { Exemption, readExemption } from './exemption';
import { DEFAULT_MAX_EXEMPTION_DAYS } from '../../guard-facts';

/** AWS Config's three verdicts. */
export type ComplianceVerdict = 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';

/** The guard's decision on one readable bucket. */
export interface BucketDecision {
  readonly compliance: ComplianceVerdict;
  /**
   * Held to the strict rules and never exempt: tagged `registry-guard:classification=sensitive-registry` (in
   * any case), or known to the registry ledger and not released through the deployment.
   */
  readonly isRegistry: boolean;
  /** How the registry status was established. */
  readonly classification: RegistryClassification;
  /**
   * False when the guard must not change the bucket even though it is NON_COMPLIANT: its only problem is
   * that its registry status could not be verified, and the ordinary rules find nothing to close.
   */
  readonly actOn: boolean;
  readonly exposure: BucketExposure;
  readonly exemption: Exemption;
  /** Why the bucket is NON_COMPLIANT, in short phrases; empty otherwise. */
  readonly problems: readonly string[];
  /** What else the annotation should say: neutralised grants, ignored exemptions, unread account settings. */
  readonly notes: readonly string[];
  /**
   * True for a NON_COMPLIANT registry bucket whose own Block Public Access is (partly) off while all four
   * account-level settings are on: the public cannot reach it now, but only the account setting keeps it so.
   * The guard still closes it at bucket level; annotations and notices say the nuance plainly.
   */
  readonly reliesOnAccountBlockPublicAccess: boolean;
  /**
   * A registry's policy statements that grant outside its zone of trust without being public: NON_COMPLIANT
   * and paged, never removed by the guard (only what the public judgement names goes). Empty otherwise.
   */
  readonly externalStatements: readonly ExternalStatement[];
}

/** Where a bucket's registry status comes from. */
export interface RegistryClassification {
  /** The bucket carries the classification tag now. */
  readonly tagged: boolean;
  /** What the guard's registry ledger remembers. */
  readonly ledger: LedgerReading;
  /** A human released the bucket from registry status through the deployment. */
  readonly released: boolean;
  /** Known to the ledger, not released, but no longer tagged: the classification was removed or changed. */
  readonly tagRemoved: boolean;
}

/** What {@link decideBucket} needs. */
export interface DecisionInput {
  readonly state: LiveBucketState;
  readonly accountBlockPublicAccess: AccountBlockPublicAccessReading;
  readonly now: Date;
  /** @default { status: 'unavailable' }: tags alone decide */
  readonly ledger?: LedgerReading;
  /** Buckets released from registry status through the deployment. @default none */
  readonly releasedRegistries?: ReadonlySet<string>;
  /** The longest an exemption may run. @default DEFAULT_MAX_EXEMPTION_DAYS */
  readonly maxExemptionDays?: number;
  /** A registry's zone of trust: its policy must grant nobody outside it. @default external access not judged */
  readonly trustZone?: TrustZone;
}

/**
 * NON_COMPLIANT when the bucket is effectively public; for a registry bucket also when it has any public
 * grant (even one Block Public Access neutralises) or any bucket-level Block Public Access setting off.
 * An ordinary bucket with a valid exemption is NOT_APPLICABLE. Everything else is COMPLIANT.
 *
 * @example
 * const decision = decideBucket({
 *   state: { bucket: 'roll', tags: [{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }], acl: {} },
 *   accountBlockPublicAccess: { status: 'none' },
 *   now: new Date(),
 * });
 * decision.problems; // ['registry Block Public Access off (all four)']
 */
export function decideBucket(input: DecisionInput): BucketDecision {
  const { state, accountBlockPublicAccess, now } = input;
  const ledger = input.ledger ?? { status: 'unavailable' };
  const exposure = judgeBucketExposure({
    policy: state.policy,
    acl: state.acl,
    bucketBlockPublicAccess: state.blockPublicAccess,
    // Unread account settings are left out: the bucket is then judged as if they were off, never looser.
    accountBlockPublicAccess:
      accountBlockPublicAccess.status === 'found' ? accountBlockPublicAccess.configuration : undefined,
  });
  const tagged = state.tags.some((tag) => isRegistryClassificationTag(tag.Key, tag.Value));
  const released = input.releasedRegistries?.has(state.bucket) === true;
  const tagRemoved = !tagged && !released && ledger.status === 'known';
  const classification: RegistryClassification = { tagged, ledger, released, tagRemoved };
  const isRegistry = tagged || tagRemoved;
  const exemption = readExemption(state.tags, now, input.maxExemptionDays ?? DEFAULT_MAX_EXEMPTION_DAYS);
  const notes: string[] = [];
  if (tagRemoved && ledger.status === 'known') {
    notes.push(
      `held as a registry: the guard has known it as one since ${ledger.since}; only the deployment can release it`,
    );
  }
  if (accountBlockPublicAccess.status === 'unreadable') {
    notes.push(
      `account-level Block Public Access could not be read (${accountBlockPublicAccess.error}): judged without it`,
    );
  }
  if (isRegistry && exemption.status !== 'none') {
    notes.push('exemption tags ignored: a registry bucket is never exempt');
  } else if (exemption.status === 'invalid') {
    notes.push(exemption.why);
  }
  // An exemption relies on the bucket never having been a registry; a ledger that cannot say is no proof.
  const exemptionUnproven =
    !isRegistry && exemption.status === 'valid' && ledger.status === 'unreadable' ? ledger.error : undefined;
  if (exemptionUnproven !== undefined) {
    notes.push(
      `exemption not honoured: could not confirm the bucket was never a registry (${exemptionUnproven})`,
    );
  }
  if (!isRegistry && exemption.status === 'valid' && exemptionUnproven === undefined) {
    return {
      classification,
      compliance: 'NOT_APPLICABLE',
      actOn: false,
      isRegistry,
      exposure,
      exemption,
      problems: [],
      notes: [`exempt until ${exemption.expires}: ${exemption.reason}`, ...notes],
      reliesOnAccountBlockPublicAccess: false,
      externalStatements: [],
    };
  }
  // Only a registry bucket can be NON_COMPLIANT while the account blocks all public access.
  const reliesOnAccountBlockPublicAccess =
    isRegistry &&
    exposure.accountBlockPublicAccess?.allOn === true &&
    !exposure.bucketBlockPublicAccess.allOn;
  const problems = problemsOf(exposure, isRegistry, reliesOnAccountBlockPublicAccess);
  if (tagRemoved)
    problems.unshift(`registry classification tag ${REGISTRY_CLASSIFICATION_TAG_KEY} removed or changed`);
  // Registry status unknown (the ledger could not be read for an untagged bucket): where the registry rules
  // would find what the ordinary ones do not, the bucket is unverified, never compliant. Nothing is done about
  // it that the ordinary rules would not do: a bucket that may be ordinary is not rewritten as a registry.
  let actOn = true;
  if (!isRegistry && ledger.status === 'unreadable' && problems.length === 0) {
    if (problemsOf(exposure, true, false).length > 0) {
      problems.push(`registry status could not be verified (${ledger.error})`);
      actOn = false;
    }
  }
  const externalStatements =
    isRegistry && input.trustZone !== undefined
      ? externalButNotPublic(state.policy, input.trustZone, exposure)
      : [];
  if (externalStatements.length > 0) {
    // Only an external grant: nothing for the guard to change, so no evidence, no rewrite; a person judges it.
    if (problems.length === 0) actOn = false;
    problems.push(
      `EXTERNAL ACCESS via bucket policy (${externalStatements.map((statement) => statement.label).join(', ')})`,
    );
  }
  if (problems.length === 0) notes.unshift(...neutralisationNotes(exposure));
  return {
    externalStatements,
    compliance: problems.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT',
    actOn,
    classification,
    isRegistry,
    exposure,
    exemption,
    problems,
    notes,
    reliesOnAccountBlockPublicAccess: problems.length > 0 && reliesOnAccountBlockPublicAccess,
  };
}

/** A public statement is the public judgement's to name (and remove): it is not repeated as external. */
function externalButNotPublic(
  policy: string | undefined,
  zone: TrustZone,
  exposure: BucketExposure,
): ExternalStatement[] {
  const publicIndexes = new Set(exposure.policy.publicStatements.map((statement) => statement.index));
  return judgeExternalAccess(policy, zone).externalStatements.filter(
    (statement) => !publicIndexes.has(statement.index),
  );
}

/**
 * Short phrases: they lead the 256-character annotation. When the account setting alone keeps the bucket
 * from the public, the annotation says so right after them, so "(neutralised)" would only repeat it.
 */
function problemsOf(
  exposure: BucketExposure,
  isRegistry: boolean,
  reliesOnAccountBlockPublicAccess: boolean,
): string[] {
  const problems: string[] = [];
  if (exposure.policy.isPublic && !exposure.policyNeutralised) problems.push('public via bucket policy');
  if (exposure.acl.isPublic && !exposure.aclNeutralised) {
    problems.push(
      exposure.acl.publicGrants.length > 0 ? 'public via ACL' : 'ACL unreadable: could not verify',
    );
  }
  if (!isRegistry) return problems;
  const neutralised = reliesOnAccountBlockPublicAccess ? '' : ' (neutralised)';
  if (exposure.policyNeutralised) problems.push(`registry policy has a public statement${neutralised}`);
  if (exposure.aclNeutralised) problems.push(`registry ACL has a public grant${neutralised}`);
  const settingsOff = exposure.bucketBlockPublicAccess.settingsOff;
  if (settingsOff.length > 0) {
    const which = settingsOff.length === 4 ? 'all four' : settingsOff.join(', ');
    problems.push(`registry Block Public Access off (${which})`);
  }
  return problems;
}

/** For an ordinary bucket a neutralised grant is compliant, but worth saying which level neutralises it. */
function neutralisationNotes(exposure: BucketExposure): string[] {
  const notes: string[] = [];
  if (exposure.policyNeutralisedBy !== undefined) {
    notes.push(
      `public policy neutralised by ${exposure.policyNeutralisedBy}-level Block Public Access (RestrictPublicBuckets)`,
    );
  }
  if (exposure.aclNeutralisedBy !== undefined) {
    notes.push(
      `public ACL neutralised by ${exposure.aclNeutralisedBy}-level Block Public Access (IgnorePublicAcls)`,
    );
  }
  return notes;
}
