/**
 * Reads a value that appears in an IAM policy, either a plain string (a policy fetched live from S3) or a
 * CloudFormation expression (a policy in a template, with `Ref`, `Fn::Join`, `Fn::Sub`, ...), and says
 * whether it is a *fixed value* in the sense of the S3 User Guide: no wildcard and no policy variable.
 *
 * CloudFormation intrinsics resolve at deploy time to values we cannot see, so each is classified:
 * pseudo parameters, references to resources and the identifiers AWS assigns them (`Arn`, `Id`) never
 * contain a wildcard (fixed); a template parameter, an imported value, a dynamic reference
 * (`{{resolve:...}}`), a custom resource's or nested stack's output, or any intrinsic we do not read could
 * hold `*` (unknown, treated as not fixed).
 *
 * Every scan here is a single pass over its input: no regular expression with backtracking, no loop that
 * restarts from the beginning.
 */

/** One piece of a rendered value: text the author wrote, or a deploy-time value. */
export type ValueSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'token'; readonly label: string; readonly fixed: boolean; readonly why?: string };

/** A policy value rendered into segments, with a printable form for messages. */
export interface RenderedValue {
  readonly segments: readonly ValueSegment[];
  /** The value as a person would read it: literals as written, deploy-time values as `${Label}`. */
  readonly display: string;
}

/**
 * What the template around a policy tells us about its intrinsics.
 *
 * @jsii ignore TypeScript only: sets and maps
 */
export interface TemplateContext {
  /** Names of the template's `Parameters`: a `Ref` to one of them is not a fixed value... */
  readonly parameterNames: ReadonlySet<string>;
  /** ...unless its `AllowedValues` are all fixed: then whichever is chosen, the value is fixed. */
  readonly parameterAllowedValues?: ReadonlyMap<string, readonly unknown[]>;
  /** The template's `Mappings`, so `Fn::FindInMap` can be read. */
  readonly mappings?: Readonly<Record<string, unknown>>;
  /**
   * The type of each resource of the template, by logical id. When given, `Ref` and `Fn::GetAtt` of a custom
   * resource or nested stack (whose values their authors choose) and of names outside the template are
   * unknown. When absent, every resource reference is taken as an identifier AWS assigns.
   */
  resourceTypeOf?(logicalId: string): string | undefined;
  /** True for a policy fetched live: its text is final, so nothing in it is an intrinsic or a dynamic reference. */
  readonly live?: boolean;
}

/** The context of a policy fetched live: there are no intrinsics, so no parameters. */
export const LIVE_POLICY_CONTEXT: TemplateContext = { parameterNames: new Set(), live: true };

/**
 * How `${...}` reads in a policy: IAM substitutes policy variables only under `Version: 2012-10-17`; under
 * `2008-10-17` (the default when `Version` is absent) `${aws:username}` is plain text and `${*}` is a `*`.
 * `unknown` (a Version chosen at deploy time) takes the reading that is not fixed in each case.
 */
export type PolicyVariableReading = 'substituted' | 'literal' | 'unknown';

/** How a value is compared: `*` and `?` are wildcards everywhere but in `StringEquals`-style operators. */
export interface ValueReading {
  readonly variables: PolicyVariableReading;
  /** The operator that compares the value, for messages (`StringEquals` treats `*` as plain text). */
  readonly literalOperator?: string;
}

const MAX_DEPTH = 32;
/** Fn::If branches multiply: past this many alternatives a value is unknown rather than read. */
const MAX_ALTERNATIVES = 64;

/** Whether a value is an object with exactly one key: the shape of every CloudFormation intrinsic. */
export function intrinsicName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

/** `{ "Ref": "AWS::NoValue" }`: CloudFormation removes the property or list item it stands for. */
export function isNoValue(value: unknown): boolean {
  return intrinsicName(value) === 'Ref' && (value as Record<string, unknown>).Ref === 'AWS::NoValue';
}

/** A value that CloudFormation removes (`AWS::NoValue`): what it would have held is absent. */
export const ABSENT: unique symbol = Symbol('absent');

/** One way a value may turn out at deploy time, and the choices (Fn::If conditions) that lead to it. */
export interface Alternative {
  readonly value: unknown;
  /** `when condition 'IsProd' is false`, joined with `, ` for nested choices; empty when unconditional. */
  readonly when: string;
}

/**
 * Every way a value may turn out: both branches of each `Fn::If` (nested ones too), `AWS::NoValue` as
 * {@link ABSENT}, each `AllowedValues` entry of a parameter and each entry `Fn::FindInMap` could pick.
 * Anything else is one alternative, itself. Past {@link MAX_ALTERNATIVES} the value is one unknown.
 */
export function alternativesOf(value: unknown, context: TemplateContext): Alternative[] {
  const alternatives: Alternative[] = [];
  const overflow = collectAlternatives(value, context, '', 0, alternatives);
  if (overflow) {
    return [{ value: { 'Fn::If': 'too many alternatives' }, when: 'for one of its many Fn::If branches' }];
  }
  return alternatives;
}

function collectAlternatives(
  value: unknown,
  context: TemplateContext,
  when: string,
  depth: number,
  into: Alternative[],
): boolean {
  if (into.length >= MAX_ALTERNATIVES || depth > MAX_DEPTH) return true;
  if (context.live) {
    into.push({ value, when });
    return false;
  }
  if (isNoValue(value)) {
    into.push({ value: ABSENT, when });
    return false;
  }
  const name = intrinsicName(value);
  const argument = name === undefined ? undefined : (value as Record<string, unknown>)[name];
  if (name === 'Fn::If' && Array.isArray(argument) && argument.length === 3) {
    const condition = typeof argument[0] === 'string' ? argument[0] : '?';
    const branches: [unknown, string][] = [
      [argument[1], 'true'],
      [argument[2], 'false'],
    ];
    return branches.some(([branch, outcome]) =>
      collectAlternatives(
        branch,
        context,
        joinWhen(when, `when condition '${condition}' is ${outcome}`),
        depth + 1,
        into,
      ),
    );
  }
  if (name === 'Ref' && typeof argument === 'string' && context.parameterNames.has(argument)) {
    const allowed = context.parameterAllowedValues?.get(argument);
    if (allowed !== undefined && allowed.length > 0) {
      for (const choice of allowed) {
        into.push({
          value: choice,
          when: joinWhen(when, `when parameter '${argument}' is '${String(choice)}'`),
        });
        if (into.length > MAX_ALTERNATIVES) return true;
      }
      return false;
    }
  }
  if (name === 'Fn::FindInMap') {
    const candidates = findInMapCandidates(argument, context);
    if (candidates !== undefined && candidates.length > 0) {
      return candidates.some((candidate) => collectAlternatives(candidate, context, when, depth + 1, into));
    }
  }
  into.push({ value, when });
  return false;
}

/** Joins the choices that lead to an alternative: `when condition 'A' is true, when parameter 'B' is 'x'`. */
export function joinWhen(outer: string, inner: string): string {
  if (outer === '') return inner;
  return inner === '' ? outer : `${outer}, ${inner}`;
}

/**
 * The entries `Fn::FindInMap` could pick from the template's `Mappings`: a key known only at deploy time
 * (`Ref: AWS::Region`) may pick any entry at its level. Undefined when malformed.
 */
function findInMapCandidates(argument: unknown, context: TemplateContext): unknown[] | undefined {
  if (!Array.isArray(argument) || argument.length < 3) return undefined;
  // AWS::LanguageExtensions: `{ DefaultValue }` is what a key missing from the map yields.
  const fallback = fallbackOf(argument[3]);
  let candidates: unknown[] = [context.mappings ?? {}];
  for (const key of argument.slice(0, 3)) {
    const next: unknown[] = [];
    for (const candidate of candidates) {
      if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) continue;
      const entries = candidate as Record<string, unknown>;
      if (typeof key === 'string') {
        if (Object.prototype.hasOwnProperty.call(entries, key)) next.push(entries[key]);
      } else {
        next.push(...Object.values(entries));
      }
    }
    candidates = next;
    if (candidates.length > MAX_ALTERNATIVES) return undefined;
  }
  // Mappings hold only literals (CloudFormation refuses intrinsics there): anything else is read as unknown,
  // never rendered again, so a chain of lookups cannot multiply the work.
  const literals = candidates.map((candidate) =>
    typeof candidate === 'string' || typeof candidate === 'number' || typeof candidate === 'boolean'
      ? candidate
      : { 'Fn::FindInMap': 'a Mappings entry that is not a plain value' },
  );
  return fallback === undefined ? literals : [...literals, fallback];
}

function fallbackOf(options: unknown): unknown {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return undefined;
  return Object.prototype.hasOwnProperty.call(options, 'DefaultValue')
    ? (options as Record<string, unknown>).DefaultValue
    : undefined;
}

/** Renders a policy value (string, number, boolean or intrinsic) into segments. */
export function renderValue(value: unknown, context: TemplateContext, depth = 0): RenderedValue {
  const segments = renderSegments(value, context, depth);
  return { segments, display: segments.map(displaySegment).join('') };
}

function displaySegment(segment: ValueSegment): string {
  return segment.kind === 'literal' ? segment.text : `\${${segment.label}}`;
}

function literal(text: string, context: TemplateContext): ValueSegment[] {
  return context.live ? [{ kind: 'literal', text }] : splitDynamicReferences(text);
}

function unknownToken(label: string, why: string): ValueSegment[] {
  return [{ kind: 'token', label, fixed: false, why }];
}

const DYNAMIC_REFERENCE_START = '{{resolve:';

/**
 * `{{resolve:ssm:name}}` inside a template string is replaced at deploy time by a value stored elsewhere,
 * which could be `*`. Splits such references out of the text as unknown tokens, in one pass.
 */
function splitDynamicReferences(text: string): ValueSegment[] {
  const segments: ValueSegment[] = [];
  let position = 0;
  while (position < text.length) {
    const start = text.indexOf(DYNAMIC_REFERENCE_START, position);
    const end = start === -1 ? -1 : text.indexOf('}}', start + DYNAMIC_REFERENCE_START.length);
    if (end === -1) break;
    if (start > position) segments.push({ kind: 'literal', text: text.slice(position, start) });
    const reference = text.slice(start + 2, end);
    segments.push({
      kind: 'token',
      label: reference,
      fixed: false,
      why: `the dynamic reference {{${reference}}} is resolved at deploy time and could be '*'`,
    });
    position = end + 2;
  }
  if (position < text.length || segments.length === 0) {
    segments.push({ kind: 'literal', text: text.slice(position) });
  }
  return segments;
}

function renderSegments(value: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (depth > MAX_DEPTH) return unknownToken('…', 'the expression is nested too deeply to read');
  if (typeof value === 'string') return literal(value, context);
  if (typeof value === 'number' || typeof value === 'boolean') return literal(String(value), context);
  const name = context.live ? undefined : intrinsicName(value);
  if (name === undefined)
    return unknownToken('?', `${withArticle(describeType(value))} where a string was expected`);
  const argument = (value as Record<string, unknown>)[name];
  switch (name) {
    case 'Ref':
      return renderRef(argument, context);
    case 'Fn::GetAtt':
      return renderGetAtt(argument, context);
    case 'Fn::Join':
      return renderJoin(argument, context, depth);
    case 'Fn::Sub':
      return renderSub(argument, context, depth);
    case 'Fn::Select':
      return renderSelect(argument, context, depth);
    case 'Fn::If':
      return renderIf(argument, context, depth);
    case 'Fn::FindInMap':
      return renderFindInMap(argument, context, depth);
    case 'Fn::ImportValue':
      return unknownToken('ImportValue', 'an imported value could hold a wildcard at deploy time');
    default:
      return unknownToken(name, `${name} cannot be read before deployment, so it could be '*'`);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** "an object", "a list": for messages. */
export function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * Resource types whose values their authors choose: custom resources, and third-party registry types
 * (`Acme::Iam::Lookup`), whose handlers return whatever they like.
 */
function isCustomResourceType(type: string): boolean {
  return (
    type.startsWith('Custom::') ||
    type === 'AWS::CloudFormation::CustomResource' ||
    (!type.startsWith('AWS::') && !type.startsWith('Alexa::'))
  );
}

function renderRef(target: unknown, context: TemplateContext): ValueSegment[] {
  if (typeof target !== 'string') return unknownToken('Ref', 'Ref names no string');
  if (target === 'AWS::NoValue') {
    return unknownToken('AWS::NoValue', 'AWS::NoValue removes the value at deploy time');
  }
  if (context.parameterNames.has(target)) {
    const allowedValues = context.parameterAllowedValues?.get(target);
    const allFixed =
      allowedValues !== undefined &&
      allowedValues.length > 0 &&
      allowedValues.every((allowed) => isFixedValue(renderValue(allowed, LIVE_POLICY_CONTEXT)));
    if (allFixed) return [{ kind: 'token', label: target, fixed: true }];
    return unknownToken(target, `template parameter '${target}' could be '*' at deploy time`);
  }
  // Pseudo parameters (AWS::AccountId, AWS::Partition, ...) contain no wildcard.
  if (target.startsWith('AWS::')) return [{ kind: 'token', label: target, fixed: true }];
  const why = whyResourceValueUnknown(target, context);
  return why === undefined ? [{ kind: 'token', label: target, fixed: true }] : unknownToken(target, why);
}

/** Why a reference to a resource could hold any value, or undefined when AWS assigns it. */
function whyResourceValueUnknown(logicalId: string, context: TemplateContext): string | undefined {
  if (context.resourceTypeOf === undefined) return undefined;
  const type = context.resourceTypeOf(logicalId);
  if (type === undefined) return `'${logicalId}' is not a resource or parameter of this template`;
  if (isCustomResourceType(type)) {
    return `custom resource '${logicalId}' returns whatever its handler chooses, '*' included`;
  }
  return undefined;
}

/** Attributes whose values AWS assigns: identifiers and ARNs, which never contain a wildcard. */
function isAssignedIdentifier(attribute: string): boolean {
  return attribute.endsWith('Arn') || attribute.endsWith('Id') || attribute.endsWith('ID');
}

function renderGetAtt(argument: unknown, context: TemplateContext): ValueSegment[] {
  const parts =
    typeof argument === 'string'
      ? [argument.slice(0, argument.indexOf('.')), argument.slice(argument.indexOf('.') + 1)]
      : argument;
  if (
    !Array.isArray(parts) ||
    parts.length !== 2 ||
    typeof parts[0] !== 'string' ||
    parts[0] === '' ||
    typeof parts[1] !== 'string'
  ) {
    return unknownToken('GetAtt', 'Fn::GetAtt is malformed or names its attribute at deploy time');
  }
  const [logicalId, attribute] = parts as [string, string];
  const label = `${logicalId}.${attribute}`;
  const unknownResource = whyResourceValueUnknown(logicalId, context);
  if (unknownResource !== undefined) return unknownToken(label, unknownResource);
  const type = context.resourceTypeOf?.(logicalId);
  if (type === undefined) return [{ kind: 'token', label, fixed: true }];
  // Nested stacks, SAM applications, provisioned products: an output is whatever the inner template says.
  if (attribute.startsWith('Outputs.')) {
    return unknownToken(label, `stack output '${label}' could be '*'`);
  }
  if (!isAssignedIdentifier(attribute.split('.').pop() ?? '')) {
    return unknownToken(label, `'${label}' is not an identifier AWS assigns, so it could be '*'`);
  }
  return [{ kind: 'token', label, fixed: true }];
}

function renderJoin(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
    return unknownToken('Join', 'Fn::Join is malformed');
  }
  const [delimiter, items] = argument as [string, unknown];
  if (!Array.isArray(items)) return unknownToken('Join', 'Fn::Join joins a list computed at deploy time');
  const segments: ValueSegment[] = [];
  items.forEach((item, index) => {
    if (index > 0 && delimiter !== '') segments.push(...literal(delimiter, context));
    segments.push(...renderSegments(item, context, depth + 1));
  });
  return segments;
}

/**
 * `Fn::Sub` placeholders `${Name}`, `${Resource.Attribute}` and the escape `${!Literal}`, found with
 * `indexOf` in one pass: a placeholder never spans a `}`, so once no `}` follows, none can.
 */
function renderSub(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  const [template, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof template !== 'string') return unknownToken('Sub', 'Fn::Sub is malformed');
  const variableMap =
    variables !== null && typeof variables === 'object' && !Array.isArray(variables)
      ? (variables as Record<string, unknown>)
      : {};
  const segments: ValueSegment[] = [];
  let textStart = 0;
  let position = 0;
  while (position < template.length) {
    const open = template.indexOf('${', position);
    const close = open === -1 ? -1 : template.indexOf('}', open + 2);
    if (close === -1) break;
    const name = template.slice(open + 2, close);
    if (open > textStart) segments.push(...literal(template.slice(textStart, open), context));
    if (name.startsWith('!')) {
      // `${!Name}` is CloudFormation's escape for a literal `${Name}`: an IAM policy variable.
      segments.push(...literal(`\${${name.slice(1)}}`, context));
    } else if (Object.prototype.hasOwnProperty.call(variableMap, name)) {
      segments.push(...renderSegments(variableMap[name], context, depth + 1));
    } else if (name.includes('.')) {
      segments.push(...renderGetAtt(name, context));
    } else {
      segments.push(...renderRef(name, context));
    }
    position = close + 1;
    textStart = position;
  }
  if (textStart < template.length) segments.push(...literal(template.slice(textStart), context));
  return segments;
}

function renderSelect(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (!Array.isArray(argument) || argument.length !== 2)
    return unknownToken('Select', 'Fn::Select is malformed');
  const [index, list] = argument as [unknown, unknown];
  const position = typeof index === 'number' ? index : Number(index);
  if (Array.isArray(list) && Number.isInteger(position) && position >= 0 && position < list.length) {
    return renderSegments(list[position], context, depth + 1);
  }
  return unknownToken('Select', 'Fn::Select picks from a list computed at deploy time');
}

function renderFindInMap(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (typeof argument === 'string') return unknownToken('FindInMap', `Fn::FindInMap reads ${argument}`);
  const candidates = findInMapCandidates(argument, context);
  if (candidates === undefined) return unknownToken('FindInMap', 'Fn::FindInMap is malformed');
  if (candidates.length === 0)
    return unknownToken('FindInMap', 'Fn::FindInMap names no entry of the template Mappings');
  if (candidates.length === 1) return renderSegments(candidates[0], context, depth + 1);
  for (const candidate of candidates) {
    const why = whyNotFixed(renderValue(candidate, context, depth + 1));
    if (why !== undefined)
      return unknownToken('FindInMap', `Fn::FindInMap may pick a value that is not fixed: ${why}`);
  }
  return [{ kind: 'token', label: `FindInMap ${String((argument as unknown[])[0])}`, fixed: true }];
}

/** Inside a larger value (`Fn::Join`, `Fn::Sub`) an `Fn::If` is fixed only when both branches are. */
function renderIf(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (!Array.isArray(argument) || argument.length !== 3) return unknownToken('If', 'Fn::If is malformed');
  const condition = String(argument[0]);
  for (const branch of [argument[1], argument[2]]) {
    const why = isNoValue(branch)
      ? 'AWS::NoValue removes the value'
      : whyNotFixed(renderValue(branch, context, depth + 1));
    if (why !== undefined)
      return unknownToken(
        `If ${condition}`,
        `a branch of Fn::If (condition '${condition}') is not fixed: ${why}`,
      );
  }
  return [{ kind: 'token', label: `If ${condition}`, fixed: true }];
}

/** What one scan of literal text finds: an unescaped wildcard and the first policy variable. */
interface LiteralScan {
  readonly wildcard?: string;
  readonly variable?: string;
}

/**
 * Scans literal policy text once. Under a `substituted` reading `${name}` is a policy variable and `${*}`,
 * `${?}`, `${$}` are IAM's escapes for those characters; under `literal` nothing is substituted; under
 * `unknown` a `${...}` is a variable and an escaped `*` or `?` still counts as a wildcard.
 */
function scanLiteral(text: string, variables: PolicyVariableReading): LiteralScan {
  let wildcard: string | undefined;
  let variable: string | undefined;
  let closesRemain = true;
  let position = 0;
  while (position < text.length && (wildcard === undefined || variable === undefined)) {
    const character = text[position];
    if (character === '*' || character === '?') {
      wildcard ??= character;
      position += 1;
      continue;
    }
    if (variables !== 'literal' && closesRemain && character === '$' && text[position + 1] === '{') {
      const close = text.indexOf('}', position + 2);
      if (close === -1) {
        closesRemain = false;
      } else {
        const inner = text.slice(position + 2, close);
        if (inner === '*' || inner === '?' || inner === '$') {
          if (variables === 'unknown' && inner !== '$') wildcard ??= inner;
        } else {
          variable ??= `\${${inner}}`;
        }
        position = close + 1;
        continue;
      }
    }
    position += 1;
  }
  return { wildcard, variable };
}

const versionNotes: Readonly<Record<PolicyVariableReading, string>> = {
  substituted: '',
  literal: " (the policy's Version is not 2012-10-17, so IAM substitutes nothing and ${*} is a plain '*')",
  unknown: " (the policy's Version is chosen at deploy time, so ${*} may be a plain '*')",
};

/** The reading of a value outside any condition operator: a principal, compared with wildcards. */
export const PRINCIPAL_READING: ValueReading = { variables: 'substituted' };

/** Why a rendered value is not fixed, or undefined when it is fixed. */
export function whyNotFixed(
  value: RenderedValue,
  reading: ValueReading = PRINCIPAL_READING,
): string | undefined {
  for (const segment of value.segments) {
    if (segment.kind === 'token') {
      if (!segment.fixed) return segment.why ?? `'${segment.label}' is not known before deployment`;
      continue;
    }
    const scan = scanLiteral(segment.text, reading.variables);
    if (scan.wildcard !== undefined) {
      const what =
        reading.literalOperator === undefined
          ? 'a wildcard'
          : `'${scan.wildcard}': ${reading.literalOperator} compares it as plain text, but the S3 User Guide counts a value with '*' or '?' as not fixed`;
      const versionNote =
        reading.variables !== 'substituted' && segment.text.includes('${')
          ? versionNotes[reading.variables]
          : '';
      return `'${value.display}' contains ${what}${versionNote}`;
    }
    if (scan.variable !== undefined) {
      return `'${value.display}' contains the policy variable ${scan.variable}`;
    }
  }
  return undefined;
}

/** A fixed value contains no wildcard and no policy variable, and nothing unknowable before deployment. */
export function isFixedValue(value: RenderedValue, reading?: ValueReading): boolean {
  return whyNotFixed(value, reading) === undefined;
}

/** The value's text when it is entirely literal (a live policy, or a template value with no intrinsic). */
export function literalText(value: RenderedValue): string | undefined {
  return value.segments.every((segment) => segment.kind === 'literal') ? value.display : undefined;
}

/** A policy field that may hold one value or a list of them; CloudFormation may also build the list. */
export function valueList(field: unknown): unknown[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field : [field];
}
