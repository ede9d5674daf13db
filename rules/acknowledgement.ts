/**
 * Acknowledgements, read once for the nag pack and the CLI alike: where they are written, whether one is
 * still in force, and which findings no acknowledgement may silence.
 *
 * - **Where**: the resource's template metadata (`Metadata.cdk_nag.rules_to_suppress`, what the CLI reads and
 *   `writeSuppressionsToCloudFormation` writes), then, in the pack, `Validations.of(x).acknowledge` on the
 *   resource and each scope above it. The nearest one for a rule id decides, as CDK's own report does.
 * - **Expiry**: a reason may end `until YYYY-MM-DD`; the acknowledgement holds to the end of that day (UTC).
 *   A reason whose `until` is not followed by such a date, or that holds a date after a disguised `until`
 *   (a look-alike letter), holds nothing: an expiry that cannot be read could be one that has passed.
 * - **Never**: public-access and external-access findings on a registry bucket (see
 *   {@link UNACKNOWLEDGEABLE_ON_REGISTRY}).
 *
 * Nothing here imports CDK: the CLI loads it without aws-cdk-lib, and the pack hands it the metadata it read.
 */
import { PACK_NAME, RegistryGuardRule, ruleId } from './rule';
import { fieldsOf, isRegistryBucket, listOf, TemplateIndex, TemplateResource } from './template-model';

/** The pack's plugin name: CDK's report offers `RegistryGuardChecks::<rule id>` to acknowledge with. */
export const PLUGIN_NAME = 'RegistryGuardChecks';

/** The prefix CDK's validation report puts before this plugin's rule ids. */
export const PLUGIN_NAMESPACE_PREFIX = `${PLUGIN_NAME}::`;

/** An acknowledgement as written: the rule id it names and the reason given. */
export interface Acknowledgement {
  readonly ruleId: string;
  /** As written; normally text, but a template can hold anything here. */
  readonly reason: unknown;
}

/** Why an acknowledgement does not silence its finding. */
export type RefusalCause = 'expired' | 'malformed' | 'unacknowledgeable';

/**
 * An acknowledgement in force: the finding is acknowledged, with this reason.
 *
 * @jsii ignore TypeScript only: a literal type and a string union
 */
export interface AcceptedAcknowledgement {
  readonly accepted: true;
  readonly reason: string;
  /** The last day it holds (`YYYY-MM-DD`, UTC), when the reason names one. */
  readonly until?: string;
}

/**
 * An acknowledgement that does not silence the finding, and why.
 *
 * @jsii ignore TypeScript only: a literal type and a string union
 */
export interface RefusedAcknowledgement {
  readonly accepted: false;
  readonly cause: RefusalCause;
  /** The reason as written, as text (empty when it was not text). */
  readonly reason: string;
  /** One sentence for the finding: why the acknowledgement is not honoured and what to do instead. */
  readonly why: string;
}

/** What an acknowledgement does to a finding. */
export type AcknowledgementVerdict = AcceptedAcknowledgement | RefusedAcknowledgement;

/**
 * Rules whose findings on a registry bucket (or an access point on one) cannot be acknowledged at all, each
 * with what to do instead. Why these and not others:
 * - `S3PublicPolicy`, `S3PublicAcl`: a registry readable by the public is the leak this package exists to stop;
 *   no reason makes it acceptable.
 * - `S3BlockPublicAccess`: on a registry the four settings block only public grants (named accounts, VPC
 *   endpoints and CloudFront origin access are not public), so turning one off serves no non-public design.
 * - `S3PublicAccessPoint`: a public access point on a registry bucket exposes the registry behind it.
 * - `S3RegistryExternalAccess`: an intended share has its own declaration, `trustedAccountIds` or
 *   `allowedOrganizationId`, which the zone of trust reads; an acknowledgement would silence every other share.
 *
 * Left acknowledgeable: `S3RegistryCdnOrigin` (a signed-URL CDN is a design it names, to be acknowledged with that
 * reason), `KMSPublicKeyPolicy` (a key, not a bucket), the baseline and the warnings.
 */
export const UNACKNOWLEDGEABLE_ON_REGISTRY: ReadonlyMap<string, string> = new Map([
  [
    `${PACK_NAME}-S3PublicPolicy`,
    'a registry bucket is never public, whatever the reason: grant to named principals instead',
  ],
  [
    `${PACK_NAME}-S3PublicAcl`,
    'a registry bucket is never public, whatever the reason: remove AccessControl and disable ACLs',
  ],
  [
    `${PACK_NAME}-S3BlockPublicAccess`,
    'Block Public Access stops only public grants, which a registry never has: turn all four settings on',
  ],
  [
    `${PACK_NAME}-S3PublicAccessPoint`,
    'a public access point exposes the registry behind it: grant to named principals or use a VPC origin',
  ],
  [
    `${PACK_NAME}-S3RegistryExternalAccess`,
    'declare an intended share with trustedAccountIds or allowedOrganizationId, which the zone of trust reads',
  ],
]);

/**
 * The acknowledgements in a resource's template metadata, `Metadata.cdk_nag.rules_to_suppress`, in the order
 * written. Ids are read as {@link plainRuleId} reads them: cdk-nag 3's `WriteNagSuppressionsToCloudFormation`
 * writes `RegistryGuardChecks::<id>` as acknowledged, and the pack and the CLI must read it alike. Entries
 * without a text `id`, or with another plugin's, name no rule of this pack and are skipped.
 */
export function templateAcknowledgements(resource: TemplateResource | undefined): Acknowledgement[] {
  return listOf(fieldsOf(resource?.metadata.cdk_nag).rules_to_suppress).flatMap((entry) => {
    const fields = fieldsOf(entry);
    const id = typeof fields.id === 'string' ? plainRuleId(fields.id) : undefined;
    return id === undefined ? [] : [{ ruleId: id, reason: fields.reason }];
  });
}

/**
 * The acknowledgements recorded by `Validations.of(x).acknowledge`, given the `data` of each
 * `aws:cdk:acknowledged-rules` metadata entry, nearest scope first. CDK stores a plain id as
 * `Annotation::<id>` (older versions `annotation::<id>`) and keeps `RegistryGuardChecks::<id>` as written; both
 * name the rule `<id>`. Ids of other plugins are skipped.
 */
export function validationsAcknowledgements(entries: readonly unknown[]): Acknowledgement[] {
  const acknowledgements: Acknowledgement[] = [];
  for (const data of entries) {
    for (const [key, reason] of Object.entries(fieldsOf(data))) {
      const id = plainRuleId(key);
      if (id !== undefined) acknowledgements.push({ ruleId: id, reason });
    }
  }
  return acknowledgements;
}

const ANNOTATION_PREFIX = 'annotation::';

/**
 * The rule id an acknowledged id names: `RegistryGuardChecks::X` and `Annotation::X` name `X`, a plain id
 * itself; undefined for another plugin's namespace.
 */
export function plainRuleId(id: string): string | undefined {
  if (id.startsWith(PLUGIN_NAMESPACE_PREFIX)) return id.slice(PLUGIN_NAMESPACE_PREFIX.length);
  if (id.slice(0, ANNOTATION_PREFIX.length).toLowerCase() === ANNOTATION_PREFIX) {
    return id.slice(ANNOTATION_PREFIX.length);
  }
  return id.includes('::') ? undefined : id;
}

/** The nearest acknowledgement of each rule id: the first in `acknowledgements` wins. */
export function nearestAcknowledgements(
  acknowledgements: readonly Acknowledgement[],
): ReadonlyMap<string, Acknowledgement> {
  const nearest = new Map<string, Acknowledgement>();
  for (const acknowledgement of acknowledgements) {
    if (!nearest.has(acknowledgement.ruleId)) nearest.set(acknowledgement.ruleId, acknowledgement);
  }
  return nearest;
}

/** Where a rule's finding lands, and the moment acknowledgements are judged at. */
export interface AcknowledgementContext {
  /** The resource the finding is on; undefined when its template does not hold it (the pack only). */
  readonly resource: TemplateResource | undefined;
  readonly index: TemplateIndex;
  readonly now: Date;
}

/**
 * What the nearest acknowledgement of the rule does to its finding on the resource: undefined when there is
 * none. Shared by the pack and the CLI, so both honour and refuse exactly the same acknowledgements.
 *
 * @example
 * const verdict = acknowledgementVerdict(S3RegistryCdnOrigin, nearestAcknowledgements(
 *   templateAcknowledgements(distribution)), { resource: distribution, index, now: new Date() });
 * verdict?.accepted; // false once the reason's `until 2027-03-31` has passed
 */
export function acknowledgementVerdict(
  rule: RegistryGuardRule,
  acknowledgements: ReadonlyMap<string, Acknowledgement>,
  context: AcknowledgementContext,
): AcknowledgementVerdict | undefined {
  const id = ruleId(rule);
  const acknowledgement = acknowledgements.get(id);
  if (acknowledgement === undefined) return undefined;
  const reason = typeof acknowledgement.reason === 'string' ? acknowledgement.reason : '';
  const never = UNACKNOWLEDGEABLE_ON_REGISTRY.get(id);
  if (never !== undefined && concernsRegistry(context.resource, context.index)) {
    return {
      accepted: false,
      cause: 'unacknowledgeable',
      reason,
      why: `${id} cannot be acknowledged on a registry bucket, so the acknowledgement is ignored: ${never}`,
    };
  }
  if (typeof acknowledgement.reason !== 'string' && acknowledgement.reason !== undefined) {
    return {
      accepted: false,
      cause: 'malformed',
      reason,
      why:
        'The acknowledgement is not honoured: its reason is not text, so whether it has expired cannot be ' +
        'read; write the reason as a string',
    };
  }
  const expiry = expiryOf(reason);
  switch (expiry.kind) {
    case 'none':
      return { accepted: true, reason };
    case 'malformed':
      return {
        accepted: false,
        cause: 'malformed',
        reason,
        why: `The acknowledgement ("${excerpt(reason)}") is not honoured: ${expiry.problem}`,
      };
    case 'date':
      if (context.now.getTime() < expiry.endsAt) return { accepted: true, reason, until: expiry.until };
      return {
        accepted: false,
        cause: 'expired',
        reason,
        why:
          `The acknowledgement ("${excerpt(reason)}") expired at the end of ${expiry.until} (UTC): fix the ` +
          'finding, or acknowledge it again with a new date',
      };
  }
}

/**
 * Whether a finding on this resource concerns a registry bucket: the bucket itself, or an access point on a
 * registry bucket of the template. A resource the template does not hold might be one (fail closed).
 */
function concernsRegistry(resource: TemplateResource | undefined, index: TemplateIndex): boolean {
  if (resource === undefined) return true;
  if (resource.type === 'AWS::S3::Bucket') return isRegistryBucket(resource);
  if (resource.type === 'AWS::S3::AccessPoint') {
    return index.bucketLogicalIds(resource.properties.Bucket).some((bucketId) => {
      const bucket = index.resources.get(bucketId);
      return bucket !== undefined && isRegistryBucket(bucket);
    });
  }
  return false;
}

/** An acknowledgement's expiry, as its reason states it. */
export type Expiry =
  | { readonly kind: 'none' }
  /** Holds until `endsAt` (milliseconds since the epoch): the start of the day after `until`, UTC. */
  | { readonly kind: 'date'; readonly until: string; readonly endsAt: number }
  | { readonly kind: 'malformed'; readonly problem: string };

// Each pattern is matched at one position or scanned once: linear in the reason's length.
const INVISIBLE = /\p{Cf}/gu;
const UNTIL = /\buntil\b/gi;
// Anything but printable ASCII and white space: where a look-alike letter (Cyrillic i, Greek omicron) can hide.
const NON_ASCII = /[^ -~\s]/;
// Digits of any script and any dash (the minus sign too), in the shape of YYYY-MM-DD: a date someone wrote.
const DATE_SHAPED = /\p{Nd}{4}[\p{Pd}\u2212]\p{Nd}{1,2}[\p{Pd}\u2212]\p{Nd}{1,2}/u;
const DATE_AFTER_UNTIL = /\s+(\d{4})-(\d{2})-(\d{2})(?![\w-])/y;
const WORD_AFTER_UNTIL = /\s*(\S{0,24})/y;

/**
 * Reads the expiry a reason states: the word `until` (any case) followed by a calendar date `YYYY-MM-DD`.
 * `until` with anything else after it, or more than once, is malformed: the author meant an expiry, and one
 * that cannot be read could be one that has passed. So is a date with a disguised `until` before it
 * (`unt\u0456l 2020-01-31`, with a Cyrillic i): it would hold forever while reading as expired. Invisible
 * format characters (`un\u200Btil`) are removed before reading.
 *
 * @example
 * expiryOf('Signed-URL design, SEC-12, until 2027-03-31'); // { kind: 'date', until: '2027-03-31', endsAt: ... }
 * expiryOf('until the migration').kind; // 'malformed'
 * expiryOf('Reviewed on 2026-12-01').kind; // 'none'
 * expiryOf('Open data unt\u0456l 2020-01-31').kind; // 'malformed': a Cyrillic i disguises "until"
 */
export function expiryOf(writtenReason: string): Expiry {
  const reason = writtenReason.replace(INVISIBLE, '');
  const positions = [...reason.matchAll(UNTIL)].map((match) => (match.index ?? 0) + match[0].length);
  if (positions.length === 0) return undatedExpiry(reason);
  if (positions.length > 1) {
    return {
      kind: 'malformed',
      problem: `it says "until" ${positions.length} times; state one expiry, "until YYYY-MM-DD"`,
    };
  }
  DATE_AFTER_UNTIL.lastIndex = positions[0];
  const date = DATE_AFTER_UNTIL.exec(reason);
  if (date !== null) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const start = Date.UTC(year, month - 1, day);
    const parsed = new Date(start);
    if (
      parsed.getUTCFullYear() === year &&
      parsed.getUTCMonth() === month - 1 &&
      parsed.getUTCDate() === day
    ) {
      return {
        kind: 'date',
        until: `${date[1]}-${date[2]}-${date[3]}`,
        endsAt: Date.UTC(year, month - 1, day + 1),
      };
    }
    return {
      kind: 'malformed',
      problem: `"until ${date[1]}-${date[2]}-${date[3]}" is not a calendar date, so when it expires cannot be read`,
    };
  }
  WORD_AFTER_UNTIL.lastIndex = positions[0];
  const word = WORD_AFTER_UNTIL.exec(reason)?.[1] ?? '';
  const after = word === '' ? 'nothing' : `"${word}"`;
  return {
    kind: 'malformed',
    problem:
      `"until" is followed by ${after}, not a date YYYY-MM-DD, so when it expires cannot be read; ` +
      'write e.g. "until 2027-03-31"',
  };
}

/**
 * A reason without a readable `until`: no expiry, unless it holds a date and something that may disguise an
 * `until` before it, a letter outside plain ASCII (`unt\u0456l`, Cyrillic i) or an ASCII look-alike
 * (`untiI`, `unti1`). A plain date elsewhere (`Reviewed on 2026-11-02`) states no expiry.
 */
function undatedExpiry(reason: string): Expiry {
  const normalised = reason.normalize('NFKC');
  const date = DATE_SHAPED.exec(normalised);
  if (date === null || !(NON_ASCII.test(normalised) || holdsUntilLookAlike(normalised))) {
    return { kind: 'none' };
  }
  return {
    kind: 'malformed',
    problem:
      `it holds a date ("${date[0]}") and no readable "until", but letters that may disguise one, so ` +
      'whether it is an expiry cannot be read; write the expiry as "until YYYY-MM-DD" in plain letters',
  };
}

/** Whether a word of the text reads as "until" when i, l, I, 1, | and ! are taken for one another. */
function holdsUntilLookAlike(text: string): boolean {
  return text
    .toLowerCase()
    .split(/[^a-z0-9|!]+/)
    .some((word) => word.replace(/[il1|!]/g, 'l') === 'untll');
}

const EXCERPT_LENGTH = 80;

/** The reason on one line, shortened: findings quote it, and a template can hold any text. */
function excerpt(reason: string): string {
  const oneLine = reason.replace(/\s+/g, ' ').trim();
  return oneLine.length <= EXCERPT_LENGTH ? oneLine : `${oneLine.slice(0, EXCERPT_LENGTH - 1)}…`;
}
