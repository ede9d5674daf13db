/**
 * Reading a resource policy into the statements it may hold at deploy time: every branch of every `Fn::If`,
 * `AWS::NoValue` as nothing, text that is not JSON or is built at deploy time as unreadable. Shared by the
 * judgement of "public" and the judgement of external access, which ask different questions of the same
 * statements and must agree on what the statements are.
 */
import { duplicateJsonKey } from './json-keys';
import {
  ABSENT,
  Alternative,
  alternativesOf,
  intrinsicName,
  joinWhen,
  literalText,
  PolicyVariableReading,
  renderValue,
  TemplateContext,
  valueList,
  withArticle,
} from './policy-values';

/** What an unreadable policy cannot be shown to be, in the public judgement's messages. */
const PRIVATE = 'private';

export function labelWhen(label: string, when: string): string {
  return when === '' ? label : `${label} ${when}`;
}

export interface DocumentAlternative {
  /** The document, or why it cannot be read. */
  readonly value: Record<string, unknown> | string;
  readonly when: string;
}

/** Every document the policy may be at deploy time; none for "no policy". */
export function documentsOf(
  policy: unknown,
  context: TemplateContext,
  claim: string = PRIVATE,
): DocumentAlternative[] {
  if (policy === undefined || policy === null || policy === '') return [];
  const documents: DocumentAlternative[] = [];
  for (const alternative of alternativesOf(policy, context)) {
    const value = readDocument(alternative.value, context, claim);
    if (value !== undefined) documents.push({ value, when: alternative.when });
  }
  return documents;
}

function readDocument(
  policy: unknown,
  context: TemplateContext,
  claim: string,
): Record<string, unknown> | string | undefined {
  if (policy === ABSENT || policy === undefined || policy === null || policy === '') return undefined;
  let document = policy;
  if (typeof document === 'string' && !context.live && document.includes('{{resolve:')) {
    return `the policy text holds a dynamic reference ({{resolve:...}}) resolved at deploy time, so it cannot be shown to be ${claim}`;
  }
  if (typeof document === 'string') {
    const text = document;
    try {
      document = JSON.parse(text);
    } catch {
      return `the policy is not valid JSON, so it cannot be shown to be ${claim}`;
    }
    const duplicate = duplicateJsonKey(text);
    if (duplicate !== undefined) {
      return `the policy text has the key '${duplicate}' twice in one object, and which copy IAM reads cannot be shown, so it cannot be shown to be ${claim}`;
    }
  }
  const builtBy = context.live ? undefined : intrinsicName(document);
  if (builtBy !== undefined) {
    return `the policy document is built at deploy time (${builtBy}), so it cannot be shown to be ${claim}`;
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return `the policy is ${withArticle(typeName(document))}, not a JSON object, so it cannot be shown to be ${claim}`;
  }
  return document as Record<string, unknown>;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

/** `Version: 2012-10-17` substitutes policy variables; `2008-10-17`, the default, substitutes none. */
export function variableReadingOf(version: unknown, context: TemplateContext): PolicyVariableReading {
  const readings = new Set(
    alternativesOf(version, context).map(({ value }): PolicyVariableReading => {
      if (value === ABSENT || value === undefined || value === '2008-10-17') return 'literal';
      return value === '2012-10-17' ? 'substituted' : 'unknown';
    }),
  );
  return readings.size === 1 ? [...readings][0] : 'unknown';
}

export interface StatementCandidate {
  readonly index: number;
  readonly sid?: string;
  readonly label: string;
  readonly statement: unknown;
  /** Set when the statement cannot be read at all: why it cannot be shown to be what the caller asks. */
  readonly unreadable?: string;
}

/** Every statement the document may hold: both branches of each `Fn::If`, `AWS::NoValue` as none. */
export function statementsOf(
  document: Record<string, unknown>,
  documentWhen: string,
  context: TemplateContext,
  claim: string = PRIVATE,
): StatementCandidate[] {
  const candidates: StatementCandidate[] = [];
  for (const list of alternativesOf(document.Statement, context)) {
    const listWhen = joinWhen(documentWhen, list.when);
    if (list.value === ABSENT || list.value === undefined) continue;
    const builtBy = context.live ? undefined : intrinsicName(list.value);
    if (
      builtBy !== undefined ||
      (typeof list.value !== 'object' && !Array.isArray(list.value)) ||
      list.value === null
    ) {
      const why =
        builtBy !== undefined
          ? `Statement is built at deploy time (${builtBy}), so it cannot be shown to be ${claim}`
          : `Statement is ${withArticle(typeName(list.value))}, not a statement or a list of them, so it cannot be shown to be ${claim}`;
      candidates.push({
        index: -1,
        label: labelWhen('the policy', listWhen),
        statement: list.value,
        unreadable: why,
      });
      continue;
    }
    valueList(list.value).forEach((entry, index) => {
      for (const statement of alternativesOf(entry, context)) {
        if (statement.value === ABSENT) continue;
        candidates.push(candidateOf(statement, index, joinWhen(listWhen, statement.when), context, claim));
      }
    });
  }
  return candidates;
}

function candidateOf(
  statement: Alternative,
  index: number,
  when: string,
  context: TemplateContext,
  claim: string,
): StatementCandidate {
  const sid = plainSid(statement.value);
  const label = labelWhen(`statement ${index + 1}${sid === undefined ? '' : ` (Sid "${sid}")`}`, when);
  const value = statement.value;
  const builtBy = context.live ? undefined : intrinsicName(value);
  if (builtBy !== undefined) {
    return {
      index,
      label,
      statement: value,
      unreadable: `the statement is built at deploy time (${builtBy}), so it cannot be shown to be ${claim}`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      index,
      label,
      statement: value,
      unreadable: `the statement is ${withArticle(typeName(value))}, not a JSON object, so it cannot be shown to be ${claim}`,
    };
  }
  return { index, sid, label, statement: value };
}

export function plainSid(statement: unknown): string | undefined {
  if (statement === null || typeof statement !== 'object') return undefined;
  const sid = (statement as Record<string, unknown>).Sid;
  return typeof sid === 'string' && sid !== '' ? sid : undefined;
}

/** Only `Allow` grants; a statement that is `Deny` in every branch can never make a policy public. */
export function grantsAccess(effect: unknown, context: TemplateContext): boolean {
  return alternativesOf(effect, context).some(({ value }) => {
    if (value === ABSENT) return true;
    const text = literalText(renderValue(value, context));
    return text === undefined || text.toLowerCase() !== 'deny';
  });
}

export interface ParsedOperator {
  readonly base: string;
  readonly setOperator?: 'forallvalues' | 'foranyvalue';
  readonly ifExists: boolean;
}

export function parseOperator(operator: string): ParsedOperator {
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

/** One thing a statement's `Principal` or `NotPrincipal` may hold, in one deploy-time branch. */
export type PrincipalMember =
  /** A `NotPrincipal` in the statement: an Allow with it grants everyone it does not list. */
  | { readonly kind: 'notPrincipal' }
  /** A `Principal` that is neither a string nor a map of principal types: `typeName` says what it is. */
  | { readonly kind: 'malformed'; readonly typeName: string }
  /** One principal; `principalType` is `''` for a bare string or a deploy-time value. */
  | {
      readonly kind: 'member';
      readonly principalType: string;
      readonly value: unknown;
      readonly when: string;
    };

/**
 * Every principal a statement may name at deploy time, each with the branch it holds in. Both judgements
 * walk principals this one way, so they cannot disagree about who a statement names.
 */
export function principalMembersOf(
  statement: Record<string, unknown>,
  context: TemplateContext,
): PrincipalMember[] {
  const members: PrincipalMember[] = [];
  if (
    statement.NotPrincipal !== undefined &&
    alternativesOf(statement.NotPrincipal, context).some(({ value }) => value !== ABSENT)
  ) {
    members.push({ kind: 'notPrincipal' });
  }
  for (const principal of alternativesOf(statement.Principal, context)) {
    const value = principal.value;
    // A resource policy statement without a principal is rejected by S3 and KMS: it grants nothing.
    if (value === ABSENT || value === undefined) continue;
    if (typeof value === 'string' || (!context.live && intrinsicName(value) !== undefined)) {
      members.push({ kind: 'member', principalType: '', value, when: principal.when });
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      members.push({ kind: 'malformed', typeName: typeName(value) });
      continue;
    }
    for (const [principalType, listed] of Object.entries(value)) {
      for (const memberList of alternativesOf(listed, context)) {
        if (memberList.value === ABSENT) continue;
        for (const member of valueList(memberList.value)) {
          for (const choice of alternativesOf(member, context)) {
            if (choice.value === ABSENT) continue;
            const when = joinWhen(joinWhen(principal.when, memberList.when), choice.when);
            members.push({ kind: 'member', principalType, value: choice.value, when });
          }
        }
      }
    }
  }
  return members;
}

/** How one judgement reads a Condition block: which keys it asks about, and why a key's condition fails. */
export interface ConditionKeyTest {
  /** True for the keys worth reading (the rest are skipped silently). */
  readonly isCandidate: (key: string) => boolean;
  /** Why the condition on `key` under `operator` does not hold; undefined when it does. */
  readonly whyNot: (operator: string, key: string, values: unknown) => string | undefined;
}

/**
 * The keys (lower case) some condition of a statement holds in every branch: conditions are ANDed, so one
 * holding key is enough for the caller; with `Fn::If` in the block, a key counts only when it holds in every
 * branch. Why candidate keys do not hold goes to `notes` (deduplicated).
 *
 * @example
 * const { keys, notes } = conditionKeysHolding(statement.Condition, context, test);
 */
export function conditionKeysHolding(
  condition: unknown,
  context: TemplateContext,
  test: ConditionKeyTest,
): { readonly keys: ReadonlySet<string>; readonly notes: string[] } {
  const notes: string[] = [];
  let keys: Set<string> | undefined;
  for (const block of alternativesOf(condition, context)) {
    const found = keysHoldingInBlock(block, context, test, notes);
    keys = keys === undefined ? found : intersect(keys, found);
  }
  return { keys: keys ?? new Set(), notes: [...new Set(notes)] };
}

function keysHoldingInBlock(
  block: Alternative,
  context: TemplateContext,
  test: ConditionKeyTest,
  notes: string[],
): Set<string> {
  const keys = new Set<string>();
  const value = block.value;
  if (value === ABSENT || value === undefined) return keys;
  const builtBy = context.live ? undefined : intrinsicName(value);
  if (builtBy !== undefined) {
    notes.push(`the Condition block is built at deploy time (${builtBy}) and cannot be read`);
    return keys;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    notes.push(`the Condition block is ${withArticle(typeName(value))}, not a JSON object`);
    return keys;
  }
  for (const [operator, operatorBlock] of Object.entries(value)) {
    let operatorKeys: Set<string> | undefined;
    for (const entries of alternativesOf(operatorBlock, context)) {
      const found = keysHoldingUnderOperator(operator, entries.value, context, test, notes);
      operatorKeys = operatorKeys === undefined ? found : intersect(operatorKeys, found);
    }
    for (const key of operatorKeys ?? []) keys.add(key);
  }
  return keys;
}

function keysHoldingUnderOperator(
  operator: string,
  entries: unknown,
  context: TemplateContext,
  test: ConditionKeyTest,
  notes: string[],
): Set<string> {
  const keys = new Set<string>();
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return keys;
  if (!context.live && intrinsicName(entries) !== undefined) return keys;
  for (const [key, values] of Object.entries(entries)) {
    if (!test.isCandidate(key)) continue;
    const why = test.whyNot(operator, key, values);
    if (why === undefined) keys.add(key.toLowerCase());
    else notes.push(why);
  }
  return keys;
}

function intersect(left: ReadonlySet<string>, right: ReadonlySet<string>): Set<string> {
  return new Set([...left].filter((key) => right.has(key)));
}
