/**
 * Is a resource policy public? Follows "The meaning of public" in the Amazon S3 User Guide: a policy is
 * assumed public, and an `Allow` statement counts as non-public only when it grants to fixed principals,
 * or when one of its conditions limits access to fixed values of a key from the guide's list.
 */
import { whyCidrUnbounded } from './ip-ranges';
import {
  intrinsicName,
  LIVE_POLICY_CONTEXT,
  literalText,
  renderValue,
  RenderedValue,
  TemplateContext,
  valueList,
  whyNotFixed,
} from './policy-values';

/** Which kind of resource policy is judged: the few rules that differ between them follow from this. */
export type PolicyKind = 'bucket' | 'accessPoint' | 'kmsKey';

/** How to read a policy. */
export interface PolicyJudgementOptions {
  /** @default 'bucket' */
  readonly kind?: PolicyKind;
  /** What the template says about its parameters. @default a live policy: no intrinsics */
  readonly context?: TemplateContext;
}

/** A statement that makes a policy public, and why. */
export interface PublicStatement {
  /** Position of the statement in `Statement`, from 0. */
  readonly index: number;
  /** The statement's `Sid`, when it has a plain one. */
  readonly sid?: string;
  /** How to name the statement to a person: `statement 2 (Sid "PublicRead")`. */
  readonly label: string;
  /** Why the statement grants to the public, in words a user can act on. */
  readonly reason: string;
}

/** The judgement of one policy. */
export interface PolicyVerdict {
  readonly isPublic: boolean;
  /** Every statement that makes the policy public; empty when it is not public. */
  readonly publicStatements: readonly PublicStatement[];
}

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
 * template (an object whose values may be intrinsics; pass the template's parameter names in `context`).
 *
 * @example
 * const verdict = judgePolicy('{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::roll/*"}}');
 * verdict.isPublic; // true
 * verdict.publicStatements[0].reason; // 'Principal "*" is everyone, and no condition limits it to fixed values'
 */
export function judgePolicy(policy: unknown, options: PolicyJudgementOptions = {}): PolicyVerdict {
  const kind = options.kind ?? 'bucket';
  const context = options.context ?? LIVE_POLICY_CONTEXT;
  const document = parsePolicyDocument(policy);
  if (typeof document === 'string') {
    return { isPublic: true, publicStatements: [{ index: -1, label: 'the policy', reason: document }] };
  }
  if (document === undefined) return { isPublic: false, publicStatements: [] };
  const publicStatements: PublicStatement[] = [];
  for (const candidate of statementsOf(document)) {
    const reason = whyStatementIsPublic(candidate.statement, kind, context);
    if (reason !== undefined) {
      publicStatements.push({ index: candidate.index, sid: candidate.sid, label: candidate.label, reason });
    }
  }
  return { isPublic: publicStatements.length > 0, publicStatements };
}

/** A policy document, undefined for "no policy", or a string saying why it cannot be read. */
function parsePolicyDocument(policy: unknown): Record<string, unknown> | undefined | string {
  if (policy === undefined || policy === null || policy === '') return undefined;
  let document = policy;
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document);
    } catch {
      return 'the policy is not valid JSON, so it cannot be shown to be private';
    }
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return 'the policy is not a JSON object, so it cannot be shown to be private';
  }
  return document as Record<string, unknown>;
}

interface StatementCandidate {
  readonly index: number;
  readonly sid?: string;
  readonly label: string;
  readonly statement: unknown;
}

function statementsOf(document: Record<string, unknown>): StatementCandidate[] {
  const candidates: StatementCandidate[] = [];
  valueList(document.Statement).forEach((statement, index) => {
    expandConditionalStatement(statement, index, '', candidates);
  });
  return candidates;
}

/** A statement chosen by `Fn::If` may be either branch: both are judged. `AWS::NoValue` is no statement. */
function expandConditionalStatement(
  statement: unknown,
  index: number,
  branch: string,
  into: StatementCandidate[],
): void {
  if (intrinsicName(statement) === 'Fn::If') {
    const argument = (statement as Record<string, unknown>)['Fn::If'];
    if (Array.isArray(argument) && argument.length === 3) {
      expandConditionalStatement(argument[1], index, `${branch} (Fn::If true branch)`, into);
      expandConditionalStatement(argument[2], index, `${branch} (Fn::If false branch)`, into);
      return;
    }
  }
  if (isNoValue(statement)) return;
  const sid = plainSid(statement);
  const label = `statement ${index + 1}${sid === undefined ? '' : ` (Sid "${sid}")`}${branch}`;
  into.push({ index, sid, label, statement });
}

function isNoValue(value: unknown): boolean {
  return intrinsicName(value) === 'Ref' && (value as Record<string, unknown>).Ref === 'AWS::NoValue';
}

function plainSid(statement: unknown): string | undefined {
  if (statement === null || typeof statement !== 'object') return undefined;
  const sid = (statement as Record<string, unknown>).Sid;
  return typeof sid === 'string' && sid !== '' ? sid : undefined;
}

function whyStatementIsPublic(
  statement: unknown,
  kind: PolicyKind,
  context: TemplateContext,
): string | undefined {
  if (statement === null || typeof statement !== 'object' || Array.isArray(statement)) {
    return 'the statement is not a JSON object, so it cannot be shown to be private';
  }
  const fields = statement as Record<string, unknown>;
  if (!grantsAccess(fields.Effect, context)) return undefined;
  const principalReason = whyPrincipalIsPublic(fields, context);
  if (principalReason === undefined) return undefined;
  const conditions = readConditions(fields.Condition, kind, context);
  if (conditions.restriction !== undefined) return undefined;
  const notes = conditions.notes.length > 0 ? `; ${conditions.notes.join('; ')}` : '';
  return `${principalReason}, and no condition limits it to fixed values${notes}`;
}

/** Only `Allow` grants; `Deny` statements take access away and can never make a policy public. */
function grantsAccess(effect: unknown, context: TemplateContext): boolean {
  const text = literalText(renderValue(effect, context));
  return text === undefined || text.toLowerCase() !== 'deny';
}

function whyPrincipalIsPublic(
  statement: Record<string, unknown>,
  context: TemplateContext,
): string | undefined {
  if (statement.NotPrincipal !== undefined) {
    return 'NotPrincipal in an Allow grants to everyone it does not list';
  }
  return whyPrincipalValueIsPublic(statement.Principal, context, 0);
}

function whyPrincipalValueIsPublic(
  principal: unknown,
  context: TemplateContext,
  depth: number,
): string | undefined {
  // A resource policy without a principal is rejected by S3 and KMS: it grants nothing.
  if (principal === undefined || isNoValue(principal)) return undefined;
  if (intrinsicName(principal) === 'Fn::If' && depth < 8) {
    const argument = (principal as Record<string, unknown>)['Fn::If'];
    if (Array.isArray(argument) && argument.length === 3) {
      return (
        whyPrincipalValueIsPublic(argument[1], context, depth + 1) ??
        whyPrincipalValueIsPublic(argument[2], context, depth + 1)
      );
    }
  }
  if (typeof principal === 'string' || intrinsicName(principal) !== undefined) {
    const rendered = renderValue(principal, context);
    if (rendered.display === '*') return 'Principal "*" is everyone';
    const why = whyNotFixed(rendered);
    return why === undefined ? undefined : `Principal is not a fixed principal: ${why}`;
  }
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) {
    return 'Principal is not readable, so it cannot be shown to be a fixed principal';
  }
  for (const [principalType, members] of Object.entries(principal)) {
    for (const member of valueList(members)) {
      const rendered = renderValue(member, context);
      if (rendered.display === '*') return `Principal ${principalType} "*" is everyone`;
      const why = whyNotFixed(rendered);
      if (why !== undefined) return `Principal ${principalType} is not a fixed principal: ${why}`;
    }
  }
  return undefined;
}

interface ConditionReading {
  /** The condition that limits access to fixed values, when there is one. */
  readonly restriction?: string;
  /** Conditions on the guide's keys that looked like restrictions but are not, and why. */
  readonly notes: string[];
}

function readConditions(condition: unknown, kind: PolicyKind, context: TemplateContext): ConditionReading {
  const notes: string[] = [];
  if (condition === undefined || isNoValue(condition)) return { notes };
  if (
    condition === null ||
    typeof condition !== 'object' ||
    Array.isArray(condition) ||
    intrinsicName(condition)
  ) {
    return { notes: ['the Condition block cannot be read before deployment'] };
  }
  for (const [operator, block] of Object.entries(condition)) {
    if (block === null || typeof block !== 'object' || Array.isArray(block)) continue;
    for (const [key, values] of Object.entries(block)) {
      if (!isRestrictingKey(key, kind)) continue;
      const why = whyConditionDoesNotRestrict(operator, key, values, kind, context);
      if (why === undefined) return { restriction: `${operator} ${key}`, notes };
      notes.push(why);
    }
  }
  return { notes };
}

function isRestrictingKey(key: string, kind: PolicyKind): boolean {
  const lower = key.toLowerCase();
  return RESTRICTING_KEYS.has(lower) || (kind === 'kmsKey' && KMS_RESTRICTING_KEYS.has(lower));
}

interface ParsedOperator {
  readonly base: string;
  readonly setOperator?: 'forallvalues' | 'foranyvalue';
  readonly ifExists: boolean;
}

function parseOperator(operator: string): ParsedOperator {
  let base = operator.toLowerCase();
  let setOperator: ParsedOperator['setOperator'];
  const colon = base.indexOf(':');
  if (colon !== -1) {
    const prefix = base.slice(0, colon);
    if (prefix === 'forallvalues' || prefix === 'foranyvalue') setOperator = prefix;
    base = base.slice(colon + 1);
  }
  const ifExists = base.endsWith('ifexists');
  if (ifExists) base = base.slice(0, -'ifexists'.length);
  return { base, setOperator, ifExists };
}

function whyConditionDoesNotRestrict(
  operator: string,
  key: string,
  values: unknown,
  kind: PolicyKind,
  context: TemplateContext,
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
  const list = valueList(values);
  if (list.length === 0) return `${operator} on ${key} lists no value`;
  for (const value of list) {
    const rendered = renderValue(value, context);
    const why = whyValueDoesNotRestrict(lowerKey, rendered, kind);
    if (why !== undefined) return `${key}: ${why}`;
  }
  return undefined;
}

function whyValueDoesNotRestrict(key: string, value: RenderedValue, kind: PolicyKind): string | undefined {
  switch (key) {
    case 'aws:sourceip': {
      const text = literalText(value);
      if (text === undefined)
        return whyNotFixed(value) ?? `'${value.display}' cannot be checked before deployment`;
      return whyCidrUnbounded(text);
    }
    case 'aws:userid':
      return whyUseridNotFixed(value);
    case 's3:dataaccesspointarn':
      return kind === 'bucket' ? whyAccessPointArnNotFixed(value) : whyNotFixed(value);
    default:
      return whyNotFixed(value);
  }
}

/** `AROLEID:*` names every session of one role: the guide accepts it although it ends in a wildcard. */
function whyUseridNotFixed(value: RenderedValue): string | undefined {
  const why = whyNotFixed(value);
  if (why === undefined) return undefined;
  const last = value.segments[value.segments.length - 1];
  if (last?.kind !== 'literal' || !last.text.endsWith(':*')) return why;
  const roleId: RenderedValue = {
    segments: [...value.segments.slice(0, -1), { kind: 'literal', text: last.text.slice(0, -2) }],
    display: value.display.slice(0, -2),
  };
  return roleId.display !== '' && whyNotFixed(roleId) === undefined ? undefined : why;
}

/**
 * In a bucket policy, `s3:DataAccessPointArn` may wildcard the access point name as long as the account
 * is fixed: `arn:aws:s3:us-west-2:123456789012:accesspoint/*` stays non-public.
 */
function whyAccessPointArnNotFixed(value: RenderedValue): string | undefined {
  const why = whyNotFixed(value);
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
  return whyNotFixed(prefix) === undefined ? undefined : why;
}
