/**
 * Does a resource policy grant access outside a zone of trust? IAM Access Analyzer's question, asked before
 * deployment: "a finding for each instance of a resource-based policy that grants access to a resource within
 * your zone of trust to a principal that is not within your zone of trust", where the zone is an account or
 * an organization (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html).
 *
 * "Public" is the floor: every public grant is external, and so is a grant to one named account outside the
 * zone, which the public judgement calls fixed and lets pass. Fails closed the way the public judgement does:
 * a value that cannot be read before deployment (a template parameter, a dynamic reference, a custom
 * resource's output) cannot be shown to be inside the zone, and every branch of every `Fn::If` is judged.
 */
import type { PolicyKind } from './policy';
import {
  documentsOf,
  principalMembersOf,
  grantsAccess,
  labelWhen,
  parseOperator,
  statementsOf,
  conditionKeysHolding,
} from './policy-statements';
import {
  ABSENT,
  alternativesOf,
  LIVE_POLICY_CONTEXT,
  literalText,
  renderValue,
  RenderedValue,
  TemplateContext,
  ValueSegment,
  valueList,
  withArticle,
} from './policy-values';

/**
 * Who is trusted: an account, its organization, and accounts named one by one.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface TrustZone {
  /**
   * The account that owns the resource. Anything but 12 digits (a CDK token, an empty string) is unknown:
   * no literal account id matches it. In a template, the pseudo parameter `AWS::AccountId` always names this
   * account, since a bucket and its policy deploy to one account.
   */
  readonly accountId: string;
  /** The organization whose members are trusted when a condition confines a grant to it (`o-...`). */
  readonly organizationId?: string;
  /** Further accounts that are trusted (12 digits each; anything else is ignored). */
  readonly trustedAccountIds?: readonly string[];
}

/**
 * How to read a policy.
 *
 * @jsii ignore TypeScript only: the input of a TypeScript-only function
 */
export interface ExternalAccessOptions {
  /**
   * What the template around the policy says (parameters, mappings, resource types).
   * @default for JSON text, a live policy; for an object, a template with no parameters
   */
  readonly context?: TemplateContext;
  /**
   * Whose policy it is. In an access point's own policy `s3:DataAccessPointAccount` and
   * `s3:DataAccessPointArn` always name that access point, so they confine nothing there.
   * @default 'bucket'
   */
  readonly kind?: PolicyKind;
}

/**
 * A statement that grants access outside the zone of trust, and why.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface ExternalStatement {
  /** Position of the statement in `Statement`, from 0; -1 when the whole policy cannot be read. */
  readonly index: number;
  /** The statement's `Sid`, when it has a plain one. */
  readonly sid?: string;
  /** How to name the statement to a person: `statement 2 (Sid "Partner")`. */
  readonly label: string;
  /** Who is outside the zone, and why no condition confines the grant. */
  readonly reason: string;
}

/**
 * The judgement of one policy against a zone of trust.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface ExternalAccessVerdict {
  readonly isExternal: boolean;
  /** Every statement that grants outside the zone; empty when none does. */
  readonly externalStatements: readonly ExternalStatement[];
}

const TEMPLATE_WITHOUT_PARAMETERS: TemplateContext = { parameterNames: new Set() };
const CLAIM = 'confined to the zone of trust';
const OWN_ACCOUNT_PSEUDO_PARAMETER = 'AWS::AccountId';
const ACCOUNT_ID_LENGTH = 12;

/**
 * Judges a resource policy (bucket or access point policy, live or in a template) against a zone of trust.
 *
 * A principal is inside the zone when it is one of the zone's accounts or an IAM ARN in one of them (root,
 * role, user, assumed role). Anyone else (`*`, another account, an AWS service, a federated identity provider,
 * whichever account holds it, a canonical user, `NotPrincipal`) is inside only when a condition of the statement confines the request to
 * the zone: `aws:PrincipalOrgID` or `aws:SourceOrgID` equal to the zone's organization, `aws:PrincipalOrgPaths`
 * under it, `aws:PrincipalAccount`, `aws:SourceAccount`, `aws:SourceOwner` or `s3:DataAccessPointAccount` in
 * the zone's accounts, `aws:PrincipalArn`, `aws:SourceArn` or `s3:DataAccessPointArn` naming one of them,
 * `aws:userid` equal to one of them, or `aws:SourceVpce`/`aws:SourceVpc` naming an endpoint or VPC the same
 * template creates. Only operators that require a match count: negated operators, `...IfExists` and
 * `ForAllValues:` let through requests without the key.
 *
 * @example
 * const verdict = judgeExternalAccess(
 *   '{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::roll/*"}}',
 *   { accountId: '111122223333', organizationId: 'o-a1b2c3d4e5' },
 * );
 * verdict.isExternal; // true: 999988887777 is neither the account nor confined to the organization
 */
export function judgeExternalAccess(
  policy: unknown,
  zone: TrustZone,
  options: ExternalAccessOptions = {},
): ExternalAccessVerdict {
  const context =
    options.context ?? (typeof policy === 'string' ? LIVE_POLICY_CONTEXT : TEMPLATE_WITHOUT_PARAMETERS);
  const reading: ZoneReading = { zone: readZone(zone), context, kind: options.kind ?? 'bucket' };
  const externalStatements: ExternalStatement[] = [];
  const seen = new Set<string>();
  const report = (statement: ExternalStatement): void => {
    const key = `${statement.label}\u0000${statement.reason}`;
    if (seen.has(key)) return;
    seen.add(key);
    externalStatements.push(statement);
  };
  for (const document of documentsOf(policy, context, CLAIM)) {
    if (typeof document.value === 'string') {
      report({ index: -1, label: labelWhen('the policy', document.when), reason: document.value });
      continue;
    }
    for (const candidate of statementsOf(document.value, document.when, context, CLAIM)) {
      const reason = candidate.unreadable ?? whyStatementIsExternal(candidate.statement, reading);
      if (reason !== undefined) {
        report({ index: candidate.index, sid: candidate.sid, label: candidate.label, reason });
      }
    }
  }
  return { isExternal: externalStatements.length > 0, externalStatements };
}

/** The zone, normalised once: the accounts as a set, and how to name the zone in a message. */
interface ReadZone {
  readonly accountIds: ReadonlySet<string>;
  readonly organizationId?: string;
  readonly description: string;
}

interface ZoneReading {
  readonly zone: ReadZone;
  readonly context: TemplateContext;
  readonly kind: PolicyKind;
}

/** Keys that in an access point's own policy always hold: they name the access point the request uses. */
const ACCESS_POINT_SELF_KEYS: ReadonlySet<string> = new Set([
  's3:dataaccesspointaccount',
  's3:dataaccesspointarn',
]);

function isAccountId(text: string): boolean {
  if (text.length !== ACCOUNT_ID_LENGTH) return false;
  for (const character of text) if (character < '0' || character > '9') return false;
  return true;
}

function readZone(zone: TrustZone): ReadZone {
  const accountIds = new Set([zone.accountId, ...(zone.trustedAccountIds ?? [])].filter(isAccountId));
  const organizationId =
    typeof zone.organizationId === 'string' && zone.organizationId.startsWith('o-')
      ? zone.organizationId
      : undefined;
  const parts = [isAccountId(zone.accountId) ? `account ${zone.accountId}` : "the resource's account"];
  const others = [...accountIds].filter((account) => account !== zone.accountId);
  if (others.length > 0) parts.push(`trusted account${others.length === 1 ? '' : 's'} ${others.join(', ')}`);
  if (organizationId !== undefined) parts.push(`organization ${organizationId}`);
  return { accountIds, organizationId, description: parts.join(', ') };
}

function whyStatementIsExternal(statement: unknown, reading: ZoneReading): string | undefined {
  const fields = statement as Record<string, unknown>;
  if (!grantsAccess(fields.Effect, reading.context)) return undefined;
  const outsiders = outsidePrincipalsOf(fields, reading);
  if (outsiders.length === 0) return undefined;
  const conditions = readConfiningConditions(fields.Condition, reading);
  if (conditions.confiningKeys.size > 0) return undefined;
  const notes = conditions.notes.length > 0 ? `; ${conditions.notes.join('; ')}` : '';
  const more =
    outsiders.length > 1
      ? ` (and ${outsiders.length - 1} more principal${outsiders.length > 2 ? 's' : ''})`
      : '';
  return `${outsiders[0]}${more}, and no condition confines it to the zone of trust (${reading.zone.description})${notes}`;
}

/** Why each principal of the statement is outside the zone (or cannot be shown inside it). */
function outsidePrincipalsOf(statement: Record<string, unknown>, reading: ZoneReading): string[] {
  const outsiders: string[] = [];
  for (const member of principalMembersOf(statement, reading.context)) {
    if (member.kind === 'notPrincipal') {
      outsiders.push('NotPrincipal in an Allow grants to everyone it does not list');
    } else if (member.kind === 'malformed') {
      outsiders.push(
        `Principal is ${withArticle(member.typeName)}, so it cannot be tied to the zone of trust`,
      );
    } else {
      const reason = whyMemberOutside(member.principalType, member.value, member.when, reading);
      if (reason !== undefined) outsiders.push(reason);
    }
  }
  return outsiders;
}

/** One principal: undefined when it is one of the zone's accounts, else why it is outside. */
function whyMemberOutside(
  principalType: string,
  member: unknown,
  when: string,
  reading: ZoneReading,
): string | undefined {
  const rendered = renderValue(member, reading.context);
  const type = principalType.toLowerCase();
  const named = `Principal${principalType === '' ? '' : ` ${principalType}`}${when === '' ? '' : ` (${when})`}`;
  if (literalText(rendered) === '*') return `${named} "*" is everyone`;
  if (type === 'service') {
    return `${named} '${rendered.display}' is an AWS service, which acts for any account that asks it`;
  }
  if (type === 'canonicaluser') {
    return `${named} '${rendered.display}' is a canonical user, which cannot be tied to an account of the zone`;
  }
  if (type === 'federated') {
    // Access Analyzer reports federated identities (filter key principal.Federated) whoever holds the provider.
    return `${named} '${rendered.display}' is anyone who can sign in with that identity provider`;
  }
  if (type !== '' && type !== 'aws') {
    return `${named} '${rendered.display}' is not a principal of the zone`;
  }
  const account = accountOfPrincipal(rendered, reading.context);
  if (account.kind === 'unknown') return `${named} '${rendered.display}' ${account.why}`;
  if (account.kind === 'own' || reading.zone.accountIds.has(account.id)) return undefined;
  return `${named} '${rendered.display}' is account ${account.id}, outside the zone of trust`;
}

/** Which account a value names: a literal id, the template's own account, or unknown (and why). */
type AccountReading =
  | { readonly kind: 'account'; readonly id: string }
  | { readonly kind: 'own' }
  | { readonly kind: 'unknown'; readonly why: string };

function isInZone(account: AccountReading, zone: ReadZone): boolean {
  if (account.kind === 'own') return true;
  return account.kind === 'account' && zone.accountIds.has(account.id);
}

/** IAM resource types whose ARNs name principals of the account that deploys the template. */
const TEMPLATE_PRINCIPAL_TYPES: ReadonlySet<string> = new Set(['AWS::IAM::Role', 'AWS::IAM::User']);

function accountOfPrincipal(rendered: RenderedValue, context: TemplateContext): AccountReading {
  const text = literalText(rendered);
  if (text !== undefined && isAccountId(text)) return { kind: 'account', id: text };
  const single = singleToken(rendered);
  if (single !== undefined) {
    if (single.label === OWN_ACCOUNT_PSEUDO_PARAMETER) return { kind: 'own' };
    // A role or user the same template creates lives in the template's account.
    const resource = templateResourceOf(single, context);
    if (
      resource !== undefined &&
      TEMPLATE_PRINCIPAL_TYPES.has(resource.type) &&
      resource.attribute === 'Arn'
    ) {
      return { kind: 'own' };
    }
  }
  const fromArn = accountOfArn(rendered, 'arnlike');
  if (fromArn !== undefined) return fromArn;
  return { kind: 'unknown', why: 'cannot be tied to an account of the zone' };
}

/** The value when it is exactly one fixed deploy-time token (`Ref`, `Fn::GetAtt`, a whole `${X}`). */
function singleToken(rendered: RenderedValue): Extract<ValueSegment, { kind: 'token' }> | undefined {
  if (rendered.segments.length !== 1) return undefined;
  const [segment] = rendered.segments;
  return segment.kind === 'token' && segment.fixed ? segment : undefined;
}

/** The template resource a token refers to (`Ref X`, `X.Attribute`), when the context knows it. */
function templateResourceOf(
  token: Extract<ValueSegment, { kind: 'token' }>,
  context: TemplateContext,
): { readonly type: string; readonly attribute?: string } | undefined {
  const dot = token.label.indexOf('.');
  const logicalId = dot === -1 ? token.label : token.label.slice(0, dot);
  const type = context.resourceTypeOf?.(logicalId);
  if (type === undefined || !type.startsWith('AWS::')) return undefined;
  return { type, attribute: dot === -1 ? undefined : token.label.slice(dot + 1) };
}

/**
 * The account field of an ARN (`arn:partition:service:region:account:resource`), read in one pass over its
 * segments. Undefined when the value is not an ARN. Under a string operator `*` may span `:`, so a wildcard
 * before the account field leaves the account unknown; under an ARN operator each field matches on its own.
 */
function accountOfArn(rendered: RenderedValue, operator: string): AccountReading | undefined {
  const fields = leadingArnFields(rendered);
  if (fields.length < ARN_FIELDS_BEFORE_RESOURCE + 1 || fieldText(fields[0]) !== 'arn') return undefined;
  const arnOperator = operator.startsWith('arn');
  const unreadableBefore = fields.slice(1, 4).some((field) => {
    if (field.some((segment) => segment.kind === 'token' && !segment.fixed)) return true;
    const text = fieldText(field);
    return !arnOperator && text !== undefined && (text.includes('*') || text.includes('?'));
  });
  if (unreadableBefore) {
    return {
      kind: 'unknown',
      why: 'has a wildcard or unknown value before its account field, so its account is unknown',
    };
  }
  const accountField = fields[4];
  const [only] = accountField;
  if (
    accountField.length === 1 &&
    only.kind === 'token' &&
    only.fixed &&
    only.label === OWN_ACCOUNT_PSEUDO_PARAMETER
  ) {
    return { kind: 'own' };
  }
  const text = fieldText(accountField);
  if (text !== undefined && isAccountId(text)) return { kind: 'account', id: text };
  if (accountField.length === 0)
    return { kind: 'unknown', why: 'names no account, so it cannot be tied to the zone' };
  return { kind: 'unknown', why: 'has an account field that is not a fixed account id' };
}

/** `arn:partition:service:region:account:` — the fields before the resource, which may hold colons itself. */
const ARN_FIELDS_BEFORE_RESOURCE = 5;

/** The value split at `:` into its first six fields (the last one only begun), in one pass. */
function leadingArnFields(rendered: RenderedValue): ValueSegment[][] {
  const fields: ValueSegment[][] = [[]];
  const wanted = ARN_FIELDS_BEFORE_RESOURCE + 1;
  for (const segment of rendered.segments) {
    if (fields.length === wanted) break;
    if (segment.kind === 'token') {
      fields[fields.length - 1].push(segment);
      continue;
    }
    let start = 0;
    while (fields.length < wanted) {
      const colon = segment.text.indexOf(':', start);
      if (colon === -1) break;
      if (colon > start)
        fields[fields.length - 1].push({ kind: 'literal', text: segment.text.slice(start, colon) });
      fields.push([]);
      start = colon + 1;
    }
    if (fields.length < wanted && start < segment.text.length) {
      fields[fields.length - 1].push({ kind: 'literal', text: segment.text.slice(start) });
    }
  }
  return fields;
}

function fieldText(field: readonly ValueSegment[]): string | undefined {
  let text = '';
  for (const segment of field) {
    if (segment.kind !== 'literal') return undefined;
    text += segment.text;
  }
  return text;
}

interface ConfiningReading {
  /** Keys (lower case) that confine the request to the zone in every branch of the Condition block. */
  readonly confiningKeys: ReadonlySet<string>;
  /** Conditions on the keys below that looked confining but are not, and why. */
  readonly notes: string[];
}

/** Condition keys that can confine a request to the zone, and how their values are read. */
const CONFINING_KEYS: ReadonlyMap<
  string,
  'organization' | 'orgPath' | 'account' | 'arn' | 'userid' | 'network'
> = new Map([
  ['aws:principalorgid', 'organization'],
  ['aws:sourceorgid', 'organization'],
  ['aws:principalorgpaths', 'orgPath'],
  ['aws:sourceorgpaths', 'orgPath'],
  ['aws:principalaccount', 'account'],
  ['aws:sourceaccount', 'account'],
  ['aws:sourceowner', 'account'],
  ['s3:dataaccesspointaccount', 'account'],
  ['aws:principalarn', 'arn'],
  ['aws:sourcearn', 'arn'],
  ['s3:dataaccesspointarn', 'arn'],
  ['aws:userid', 'userid'],
  ['aws:sourcevpce', 'network'],
  ['aws:sourcevpc', 'network'],
]);

/** Operators that require the request's value to match one of the listed values. */
const MATCHING_OPERATORS: ReadonlySet<string> = new Set([
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
]);

/** Resource types whose `Ref` (or `Id`) is a network path the template's account owns. */
const TEMPLATE_NETWORK_TYPES: ReadonlySet<string> = new Set(['AWS::EC2::VPCEndpoint', 'AWS::EC2::VPC']);

/**
 * Conditions are ANDed: one key confined to the zone confines the statement. With `Fn::If` in the block, a
 * key counts only when it confines in every branch.
 */
function readConfiningConditions(condition: unknown, reading: ZoneReading): ConfiningReading {
  const { keys, notes } = conditionKeysHolding(condition, reading.context, {
    isCandidate: (key) =>
      CONFINING_KEYS.has(key.toLowerCase()) &&
      !(reading.kind === 'accessPoint' && ACCESS_POINT_SELF_KEYS.has(key.toLowerCase())),
    whyNot: (operator, key, values) => whyConditionDoesNotConfine(operator, key, values, reading),
  });
  return { confiningKeys: keys, notes };
}

function whyConditionDoesNotConfine(
  operator: string,
  key: string,
  values: unknown,
  reading: ZoneReading,
): string | undefined {
  const parsed = parseOperator(operator);
  if (!MATCHING_OPERATORS.has(parsed.base))
    return `${operator} on ${key} does not require a value of the zone`;
  if (parsed.ifExists || parsed.setOperator === 'forallvalues') {
    return `${operator} on ${key} lets through requests that lack the key`;
  }
  for (const valueSet of alternativesOf(values, reading.context)) {
    const when = valueSet.when === '' ? '' : ` ${valueSet.when}`;
    const list = valueSet.value === ABSENT ? [] : valueList(valueSet.value);
    const choicesPerValue = list.map((value) => alternativesOf(value, reading.context));
    // The list is certain to hold a value only when some entry is present in every branch.
    const alwaysPresent = choicesPerValue.some((choices) =>
      choices.every((choice) => choice.value !== ABSENT),
    );
    if (!alwaysPresent) return `${operator} on ${key} may list no value${when}`;
    for (const choice of choicesPerValue.flat()) {
      if (choice.value === ABSENT) continue;
      const rendered = renderValue(choice.value, reading.context);
      const why = whyValueOutsideZone(key.toLowerCase(), parsed.base, rendered, reading);
      if (why !== undefined) return `${key} '${rendered.display}' ${why}${when}`;
    }
  }
  return undefined;
}

/** Why one condition value admits requests from outside the zone, or undefined when it confines them. */
function whyValueOutsideZone(
  key: string,
  operator: string,
  value: RenderedValue,
  reading: ZoneReading,
): string | undefined {
  const { zone } = reading;
  const text = literalText(value);
  switch (CONFINING_KEYS.get(key)) {
    case 'organization': {
      if (zone.organizationId === undefined) return 'names an organization, and the zone of trust has none';
      const matches =
        text !== undefined &&
        (operator === 'stringequalsignorecase'
          ? text.toLowerCase() === zone.organizationId.toLowerCase()
          : text === zone.organizationId);
      return matches ? undefined : `is not the zone's organization ${zone.organizationId}`;
    }
    case 'orgPath': {
      if (zone.organizationId === undefined)
        return 'names an organization path, and the zone of trust has none';
      const prefix = `${zone.organizationId}/`;
      return text !== undefined && text.startsWith(prefix)
        ? undefined
        : `is not a path under the zone's organization ${zone.organizationId}`;
    }
    case 'account':
    case 'userid': {
      // The root user's aws:userid is its account id; a role's or user's unique id names no account.
      const account = accountOfValue(value, text);
      return isInZone(account, zone) ? undefined : 'is not an account of the zone of trust';
    }
    case 'arn': {
      const single = singleToken(value);
      if (single !== undefined && templateResourceOf(single, reading.context) !== undefined) {
        // A resource the same template creates lives in the template's account.
        return undefined;
      }
      const account = accountOfArn(value, operator);
      if (account === undefined) return 'is not an ARN, so it cannot be tied to an account of the zone';
      if (account.kind === 'unknown') return account.why;
      return isInZone(account, zone) ? undefined : 'names an account outside the zone of trust';
    }
    case 'network': {
      const single = singleToken(value);
      const resource = single === undefined ? undefined : templateResourceOf(single, reading.context);
      if (resource !== undefined && TEMPLATE_NETWORK_TYPES.has(resource.type)) {
        if (resource.attribute === undefined || resource.attribute.endsWith('Id')) return undefined;
      }
      // Access Analyzer keeps reporting a grant behind a VPC endpoint condition: an endpoint id does not say
      // which account owns the endpoint.
      return 'is a network path whose owner cannot be read from the policy, so it does not confine the grant to the zone';
    }
    default:
      return 'cannot confine the grant';
  }
}

function accountOfValue(value: RenderedValue, text: string | undefined): AccountReading {
  if (text !== undefined && isAccountId(text)) return { kind: 'account', id: text };
  const single = singleToken(value);
  if (single?.label === OWN_ACCOUNT_PSEUDO_PARAMETER) return { kind: 'own' };
  return { kind: 'unknown', why: 'is not an account id' };
}
