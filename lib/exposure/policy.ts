/**
 * Is a resource policy public? Follows "The meaning of public" in the Amazon S3 User Guide: a policy is
 * assumed public, and an `Allow` statement counts as non-public only when it grants to fixed principals,
 * or when one of its conditions limits access to fixed values of a key from the guide's list.
 *
 * Fails closed: a value that cannot be shown fixed (a template parameter, a dynamic reference, a custom
 * resource's output, an intrinsic we do not read) is treated as possibly `*`, and every branch of every
 * `Fn::If` is judged.
 */
import { whyCidrUnbounded } from './ip-ranges';
import {
  documentsOf,
  grantsAccess,
  labelWhen,
  parseOperator,
  principalMembersOf,
  statementsOf,
  conditionKeysHolding,
  variableReadingOf,
} from './policy-statements';
import {
  ABSENT,
  alternativesOf,
  LIVE_POLICY_CONTEXT,
  literalText,
  PolicyVariableReading,
  renderValue,
  RenderedValue,
  TemplateContext,
  ValueReading,
  valueList,
  whyNotFixed,
  withArticle,
} from './policy-values';

/** Which kind of resource policy is judged: the few rules that differ between them follow from this. */
export type PolicyKind = 'bucket' | 'accessPoint' | 'kmsKey';

/**
 * How to read a policy.
 *
 * @jsii ignore TypeScript only: the input of a TypeScript-only function
 */
export interface PolicyJudgementOptions {
  /** @default 'bucket' */
  readonly kind?: PolicyKind;
  /**
   * What the template around the policy says (parameters, mappings, resource types).
   * @default for JSON text, a live policy (nothing in it is an intrinsic); for an object, a template with no
   * parameters, so intrinsics in it are still read (and fail closed)
   */
  readonly context?: TemplateContext;
}

/**
 * A statement that makes a policy public, and why.
 *
 * @jsii ignore TypeScript only: a verdict of the judgement functions
 */
export interface PublicStatement {
  /** Position of the statement in `Statement`, from 0; -1 when the whole policy cannot be read. */
  readonly index: number;
  /** The statement's `Sid`, when it has a plain one. */
  readonly sid?: string;
  /** How to name the statement to a person: `statement 2 (Sid "PublicRead")`. */
  readonly label: string;
  /** Why the statement grants to the public, in words a user can act on. */
  readonly reason: string;
}

/**
 * The judgement of one policy.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface PolicyVerdict {
  readonly isPublic: boolean;
  /** Every statement that makes the policy public; empty when it is not public. */
  readonly publicStatements: readonly PublicStatement[];
}

const TEMPLATE_WITHOUT_PARAMETERS: TemplateContext = { parameterNames: new Set() };

/** Condition keys that, limited to fixed values, make a grant non-public (lower case: keys are case-insensitive). */
const RESTRICTING_KEYS: ReadonlySet<string> = new Set([
  'aws:sourceip',
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  // "An AWS principal, user, role, or service principal": condition keys naming the principal count too.
  'aws:principalorgid',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:userid',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
]);

/** KMS key policies also accept the calling account as a restriction. */
const KMS_RESTRICTING_KEYS: ReadonlySet<string> = new Set(['kms:calleraccount']);

/** Operators that require the request's value to match: the only ones that can limit access. */
const MATCHING_OPERATORS: ReadonlySet<string> = new Set([
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
  'ipaddress',
]);

/** Matching operators that compare text as written: `*` and `?` are not wildcards under them. */
const PLAIN_TEXT_OPERATORS: ReadonlySet<string> = new Set(['stringequals', 'stringequalsignorecase']);

const NEGATED_OPERATORS: ReadonlySet<string> = new Set([
  'stringnotequals',
  'stringnotequalsignorecase',
  'stringnotlike',
  'arnnotequals',
  'arnnotlike',
  'notipaddress',
]);

/**
 * Judges a resource policy: a bucket policy, an access point policy or a KMS key policy.
 *
 * Accepts the policy as fetched live (a JSON string or parsed object) or as written in a CloudFormation
 * template (an object whose values may be intrinsics; pass the template in `context`).
 *
 * @example
 * const verdict = judgePolicy('{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::roll/*"}}');
 * verdict.isPublic; // true
 * verdict.publicStatements[0].reason; // 'Principal "*" is everyone, and no condition limits it to fixed values'
 */
export function judgePolicy(policy: unknown, options: PolicyJudgementOptions = {}): PolicyVerdict {
  const kind = options.kind ?? 'bucket';
  const context =
    options.context ?? (typeof policy === 'string' ? LIVE_POLICY_CONTEXT : TEMPLATE_WITHOUT_PARAMETERS);
  const publicStatements: PublicStatement[] = [];
  const seen = new Set<string>();
  const report = (statement: PublicStatement): void => {
    const key = `${statement.label}\u0000${statement.reason}`;
    if (seen.has(key)) return;
    seen.add(key);
    publicStatements.push(statement);
  };
  for (const document of documentsOf(policy, context)) {
    if (typeof document.value === 'string') {
      report({ index: -1, label: labelWhen('the policy', document.when), reason: document.value });
      continue;
    }
    const variables = variableReadingOf(document.value.Version, context);
    for (const candidate of statementsOf(document.value, document.when, context)) {
      const reason =
        candidate.unreadable ?? whyStatementIsPublic(candidate.statement, { kind, context, variables });
      if (reason !== undefined) {
        report({ index: candidate.index, sid: candidate.sid, label: candidate.label, reason });
      }
    }
  }
  return { isPublic: publicStatements.length > 0, publicStatements };
}

/** Where an access point accepts requests from: S3 never counts a VPC-only access point as public. */
export type AccessPointNetworkOrigin = 'Internet' | 'VPC';

/**
 * What {@link judgeAccessPoint} reads.
 *
 * @jsii ignore TypeScript only: the input of a TypeScript-only function
 */
export interface AccessPointAccess {
  /** The access point policy, in any shape {@link judgePolicy} reads. */
  readonly policy?: unknown;
  readonly networkOrigin: AccessPointNetworkOrigin;
  readonly context?: TemplateContext;
}

/**
 * Judges an access point: the S3 User Guide counts one with a VPC network origin as non-public whatever its
 * policy says; an internet-facing one is as public as its policy (where `s3:DataAccessPointArn` may not be
 * a wildcard).
 *
 * @example
 * judgeAccessPoint({ policy: '{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}', networkOrigin: 'VPC' }).isPublic; // false
 */
export function judgeAccessPoint(accessPoint: AccessPointAccess): PolicyVerdict {
  if (accessPoint.networkOrigin === 'VPC') return { isPublic: false, publicStatements: [] };
  return judgePolicy(accessPoint.policy, { kind: 'accessPoint', context: accessPoint.context });
}

/** Everything a statement is judged with. */
interface StatementReading {
  readonly kind: PolicyKind;
  readonly context: TemplateContext;
  readonly variables: PolicyVariableReading;
}

function whyStatementIsPublic(statement: unknown, reading: StatementReading): string | undefined {
  const fields = statement as Record<string, unknown>;
  if (!grantsAccess(fields.Effect, reading.context)) return undefined;
  const publicPrincipals = publicPrincipalsOf(fields, reading);
  if (publicPrincipals.length === 0) return undefined;
  const conditions = readConditions(fields.Condition, reading);
  const unrestricted = publicPrincipals.find(
    (principal) => !isRestrictedFor(principal, conditions.restrictingKeys, reading.kind),
  );
  if (unrestricted === undefined) return undefined;
  const notes = conditions.notes.length > 0 ? `; ${conditions.notes.join('; ')}` : '';
  return `${unrestricted.reason}, and no condition limits it to fixed values${notes}`;
}

/** A principal that is public unless a condition limits it. */
interface PublicPrincipal {
  readonly reason: string;
  /** For a federated principal: the condition key naming its audience, which Access Analyzer credits. */
  readonly audienceKey?: string;
}

function publicPrincipalsOf(
  statement: Record<string, unknown>,
  reading: StatementReading,
): PublicPrincipal[] {
  const found: PublicPrincipal[] = [];
  for (const member of principalMembersOf(statement, reading.context)) {
    if (member.kind === 'notPrincipal') {
      found.push({ reason: 'NotPrincipal in an Allow grants to everyone it does not list' });
    } else if (member.kind === 'malformed') {
      found.push({
        reason: `Principal is ${withArticle(member.typeName)}, so it cannot be shown to be a fixed principal`,
      });
    } else {
      const principal = judgePrincipalMember(member.principalType, member.value, member.when, reading);
      if (principal !== undefined) found.push(principal);
    }
  }
  return found;
}

/**
 * One principal. `*` is everyone; a wildcard or policy variable is not fixed; a federated principal is anyone
 * who can sign in to that identity provider. A deploy-time value is unknown only when it is the whole
 * principal: IAM accepts `*` only as the whole principal, never inside an ARN or id.
 */
function judgePrincipalMember(
  principalType: string,
  member: unknown,
  when: string,
  reading: StatementReading,
): PublicPrincipal | undefined {
  const rendered = renderValue(member, reading.context);
  const named = `Principal${principalType === '' ? '' : ` ${principalType}`}${when === '' ? '' : ` (${when})`}`;
  if (literalText(rendered) === '*') return { reason: `${named} "*" is everyone` };
  const why = whyPrincipalNotFixed(rendered, reading.variables);
  if (why !== undefined) return { reason: `${named} is not a fixed principal: ${why}` };
  if (principalType.toLowerCase() === 'federated') {
    return {
      reason: `${named} '${rendered.display}' is anyone who can sign in with that identity provider`,
      audienceKey: audienceKeyOf(rendered),
    };
  }
  return undefined;
}

function whyPrincipalNotFixed(rendered: RenderedValue, variables: PolicyVariableReading): string | undefined {
  const hasText = rendered.segments.some((segment) => segment.kind === 'literal' && segment.text !== '');
  if (!hasText) return whyNotFixed(rendered, { variables });
  const literalOnly: RenderedValue = {
    segments: rendered.segments.filter((segment) => segment.kind === 'literal'),
    display: rendered.display,
  };
  return whyNotFixed(literalOnly, { variables });
}

/**
 * The condition key that names a federated principal's audience: IAM Access Analyzer reports a web-identity
 * or SAML grant limited to a fixed audience as not public. Facebook and Amazon (`app_id`) are not credited:
 * no AWS source says they are.
 */
function audienceKeyOf(provider: RenderedValue): string | undefined {
  const text = literalText(provider)?.toLowerCase();
  if (text === undefined) return undefined;
  if (text === 'cognito-identity.amazonaws.com' || text === 'accounts.google.com') return `${text}:aud`;
  const oidc = text.indexOf(':oidc-provider/');
  if (text.startsWith('arn:') && oidc !== -1) return `${text.slice(oidc + ':oidc-provider/'.length)}:aud`;
  if (text.startsWith('arn:') && text.includes(':saml-provider/')) return 'saml:aud';
  return undefined;
}

function isRestrictedFor(
  principal: PublicPrincipal,
  restrictingKeys: ReadonlySet<string>,
  kind: PolicyKind,
): boolean {
  for (const key of restrictingKeys) {
    if (RESTRICTING_KEYS.has(key) || (kind === 'kmsKey' && KMS_RESTRICTING_KEYS.has(key))) return true;
    if (principal.audienceKey !== undefined && key === principal.audienceKey) return true;
  }
  return false;
}

interface ConditionReading {
  /** Keys (lower case) that some condition limits to fixed values in every branch. */
  readonly restrictingKeys: ReadonlySet<string>;
  /** Conditions on the guide's keys that looked like restrictions but are not, and why. */
  readonly notes: string[];
}

/**
 * Conditions are ANDed, so one condition that limits a key to fixed values restricts the statement. With
 * `Fn::If` in the block, a key counts only when it is limited in every branch.
 */
function readConditions(condition: unknown, reading: StatementReading): ConditionReading {
  const { keys, notes } = conditionKeysHolding(condition, reading.context, {
    isCandidate: (key) => isCandidateKey(key, reading.kind),
    whyNot: (operator, key, values) => whyConditionDoesNotRestrict(operator, key, values, reading),
  });
  return { restrictingKeys: keys, notes };
}

/** Keys worth reading: the guide's list, KMS's caller account, and identity-provider audiences. */
function isCandidateKey(key: string, kind: PolicyKind): boolean {
  const lower = key.toLowerCase();
  return (
    RESTRICTING_KEYS.has(lower) ||
    (kind === 'kmsKey' && KMS_RESTRICTING_KEYS.has(lower)) ||
    lower.endsWith(':aud')
  );
}

function whyConditionDoesNotRestrict(
  operator: string,
  key: string,
  values: unknown,
  reading: StatementReading,
): string | undefined {
  const parsed = parseOperator(operator);
  if (NEGATED_OPERATORS.has(parsed.base)) return `${operator} on ${key} is negated and restricts nothing`;
  if (!MATCHING_OPERATORS.has(parsed.base)) return `${operator} cannot limit ${key} to fixed values`;
  if (parsed.ifExists) return `${operator} on ${key} lets through requests that lack the key`;
  if (parsed.setOperator === 'forallvalues') {
    return `${operator} on ${key} lets through requests that lack the key`;
  }
  const lowerKey = key.toLowerCase();
  if ((parsed.base === 'ipaddress') !== (lowerKey === 'aws:sourceip')) {
    return `${operator} cannot limit ${key} to fixed values`;
  }
  const valueReading: ValueReading = {
    variables: reading.variables,
    literalOperator: PLAIN_TEXT_OPERATORS.has(parsed.base) ? operator : undefined,
  };
  const valueSets = alternativesOf(values, reading.context);
  for (const valueSet of valueSets) {
    const when = valueSet.when === '' ? '' : ` ${valueSet.when}`;
    const list = valueSet.value === ABSENT ? [] : valueList(valueSet.value);
    const choicesPerValue = list.map((value) => alternativesOf(value, reading.context));
    // The list is certain to hold a value only when some entry is present in every branch.
    const alwaysPresent = choicesPerValue.some((choices) =>
      choices.every((choice) => choice.value !== ABSENT),
    );
    if (!alwaysPresent) return `${operator} on ${key} may list no value${when}`;
    const present = choicesPerValue.flat().filter((choice) => choice.value !== ABSENT);
    for (const choice of present) {
      const rendered = renderValue(choice.value, reading.context);
      const why = whyValueDoesNotRestrict(lowerKey, rendered, reading.kind, valueReading);
      if (why !== undefined) return `${key}: ${why}${when}`;
    }
  }
  return undefined;
}

function whyValueDoesNotRestrict(
  key: string,
  value: RenderedValue,
  kind: PolicyKind,
  reading: ValueReading,
): string | undefined {
  switch (key) {
    case 'aws:sourceip': {
      const text = literalText(value);
      if (text === undefined) {
        return (
          whyNotFixed(value, reading) ??
          `'${value.display}' is computed at deploy time, so it cannot be shown to be a bounded CIDR`
        );
      }
      return whyCidrUnbounded(text);
    }
    case 'aws:userid':
      return whyUseridNotFixed(value, reading);
    case 's3:dataaccesspointarn':
      return kind === 'bucket' ? whyAccessPointArnNotFixed(value, reading) : whyNotFixed(value, reading);
    default:
      return whyNotFixed(value, reading);
  }
}

/** `AROLEID:*` names every session of one role: the guide accepts it although it ends in a wildcard. */
function whyUseridNotFixed(value: RenderedValue, reading: ValueReading): string | undefined {
  const why = whyNotFixed(value, reading);
  if (why === undefined) return undefined;
  const last = value.segments[value.segments.length - 1];
  if (last?.kind !== 'literal' || !last.text.endsWith(':*')) return why;
  const roleId: RenderedValue = {
    segments: [...value.segments.slice(0, -1), { kind: 'literal', text: last.text.slice(0, -2) }],
    display: value.display.slice(0, -2),
  };
  return roleId.display !== '' && whyNotFixed(roleId, reading) === undefined ? undefined : why;
}

/**
 * In a bucket policy, `s3:DataAccessPointArn` may wildcard the access point name as long as the account
 * is fixed: `arn:aws:s3:us-west-2:123456789012:accesspoint/*` stays non-public.
 */
function whyAccessPointArnNotFixed(value: RenderedValue, reading: ValueReading): string | undefined {
  const why = whyNotFixed(value, reading);
  if (why === undefined) return undefined;
  const marker = ':accesspoint/';
  const cut = value.display.indexOf(marker);
  if (cut === -1) return why;
  const prefixSegments = [];
  let consumed = 0;
  for (const segment of value.segments) {
    const length = segment.kind === 'literal' ? segment.text.length : `\${${segment.label}}`.length;
    if (consumed + length <= cut) {
      prefixSegments.push(segment);
    } else if (segment.kind === 'literal' && consumed < cut) {
      prefixSegments.push({ kind: 'literal' as const, text: segment.text.slice(0, cut - consumed) });
    } else if (consumed < cut) {
      return why;
    }
    consumed += length;
  }
  const prefix: RenderedValue = { segments: prefixSegments, display: value.display.slice(0, cut) };
  const fields = prefix.display.split(':');
  // arn:partition:s3:region:account — five fields, the account among them, all fixed.
  if (fields.length !== 5 || fields[4] === '') return why;
  return whyNotFixed(prefix, reading) === undefined ? undefined : why;
}
