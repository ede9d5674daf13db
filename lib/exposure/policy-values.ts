/**
 * Reads a value that appears in an IAM policy, either a plain string (a policy fetched live from S3) or a
 * CloudFormation expression (a policy in a template, with `Ref`, `Fn::Join`, `Fn::Sub`, ...), and says
 * whether it is a *fixed value* in the sense of the S3 User Guide: no wildcard and no policy variable.
 *
 * CloudFormation intrinsics resolve at deploy time to values we cannot see, so each is classified:
 * pseudo parameters and references to resources resolve to identifiers that never contain a wildcard
 * (fixed); a template parameter or an imported value could hold `*` (unknown, treated as not fixed).
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

/** What the template around a policy tells us about its intrinsics. */
export interface TemplateContext {
  /** Names of the template's `Parameters`: a `Ref` to one of them is not a fixed value... */
  readonly parameterNames: ReadonlySet<string>;
  /** ...unless its `AllowedValues` are all fixed: then whichever is chosen, the value is fixed. */
  readonly parameterAllowedValues?: ReadonlyMap<string, readonly unknown[]>;
  /** The template's `Mappings`, so `Fn::FindInMap` can be read. */
  readonly mappings?: Readonly<Record<string, unknown>>;
}

/** The context of a policy fetched live: there are no intrinsics, so no parameters. */
export const LIVE_POLICY_CONTEXT: TemplateContext = { parameterNames: new Set() };

const MAX_DEPTH = 32;

/** Whether a value is an object with exactly one key: the shape of every CloudFormation intrinsic. */
export function intrinsicName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

/** Renders a policy value (string, number, boolean or intrinsic) into segments. */
export function renderValue(value: unknown, context: TemplateContext, depth = 0): RenderedValue {
  const segments = renderSegments(value, context, depth);
  return { segments, display: segments.map(displaySegment).join('') };
}

function displaySegment(segment: ValueSegment): string {
  return segment.kind === 'literal' ? segment.text : `\${${segment.label}}`;
}

function literal(text: string): ValueSegment[] {
  return [{ kind: 'literal', text }];
}

function unknownToken(label: string, why: string): ValueSegment[] {
  return [{ kind: 'token', label, fixed: false, why }];
}

function renderSegments(value: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (depth > MAX_DEPTH) return unknownToken('…', 'the expression is nested too deeply to read');
  if (typeof value === 'string') return literal(value);
  if (typeof value === 'number' || typeof value === 'boolean') return literal(String(value));
  const name = intrinsicName(value);
  if (name === undefined) return unknownToken('?', `a ${describeType(value)} where a string was expected`);
  const argument = (value as Record<string, unknown>)[name];
  switch (name) {
    case 'Ref':
      return renderRef(argument, context);
    case 'Fn::GetAtt':
      return renderGetAtt(argument);
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
      return unknownToken(name, `${name} cannot be read before deployment`);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

function renderRef(target: unknown, context: TemplateContext): ValueSegment[] {
  if (typeof target !== 'string') return unknownToken('Ref', 'Ref names no string');
  if (context.parameterNames.has(target)) {
    const allowedValues = context.parameterAllowedValues?.get(target);
    const allFixed =
      allowedValues !== undefined &&
      allowedValues.length > 0 &&
      allowedValues.every((allowed) => isFixedValue(renderValue(allowed, LIVE_POLICY_CONTEXT)));
    if (allFixed) return [{ kind: 'token', label: target, fixed: true }];
    return unknownToken(target, `template parameter '${target}' could be '*' at deploy time`);
  }
  // Pseudo parameters (AWS::AccountId, AWS::Partition, ...) and resource identifiers contain no wildcard.
  return [{ kind: 'token', label: target, fixed: true }];
}

function renderGetAtt(argument: unknown): ValueSegment[] {
  const parts = typeof argument === 'string' ? argument.split('.') : argument;
  if (!Array.isArray(parts) || parts.length < 2) return unknownToken('GetAtt', 'Fn::GetAtt is malformed');
  return [{ kind: 'token', label: parts.map(String).join('.'), fixed: true }];
}

function renderJoin(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
    return unknownToken('Join', 'Fn::Join is malformed');
  }
  const [delimiter, items] = argument as [string, unknown];
  if (!Array.isArray(items)) return unknownToken('Join', 'Fn::Join joins a list computed at deploy time');
  const segments: ValueSegment[] = [];
  items.forEach((item, index) => {
    if (index > 0 && delimiter !== '') segments.push(...literal(delimiter));
    segments.push(...renderSegments(item, context, depth + 1));
  });
  return segments;
}

const SUB_PLACEHOLDER = /\$\{(!?)([^}]*)\}/g;

function renderSub(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  const [template, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof template !== 'string') return unknownToken('Sub', 'Fn::Sub is malformed');
  const variableMap =
    variables !== null && typeof variables === 'object' && !Array.isArray(variables)
      ? (variables as Record<string, unknown>)
      : {};
  const segments: ValueSegment[] = [];
  let last = 0;
  for (const match of template.matchAll(SUB_PLACEHOLDER)) {
    const [whole, escape, name] = match;
    const start = match.index ?? 0;
    if (start > last) segments.push(...literal(template.slice(last, start)));
    if (escape === '!') {
      // `${!Name}` is CloudFormation's escape for a literal `${Name}`: an IAM policy variable.
      segments.push(...literal(`\${${name}}`));
    } else if (Object.prototype.hasOwnProperty.call(variableMap, name)) {
      segments.push(...renderSegments(variableMap[name], context, depth + 1));
    } else if (name.includes('.')) {
      segments.push(...renderGetAtt(name));
    } else {
      segments.push(...renderRef(name, context));
    }
    last = start + whole.length;
  }
  if (last < template.length) segments.push(...literal(template.slice(last)));
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

/**
 * `Fn::FindInMap` reads the template's `Mappings`. A key known only at deploy time (`Ref: AWS::Region`) may
 * pick any entry at that level, so the value is fixed only when every entry it could pick is.
 */
function renderFindInMap(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (!Array.isArray(argument) || argument.length < 3)
    return unknownToken('FindInMap', 'Fn::FindInMap is malformed');
  let candidates: unknown[] = [context.mappings ?? {}];
  for (const key of argument.slice(0, 3)) {
    const next: unknown[] = [];
    for (const candidate of candidates) {
      if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) continue;
      const entries = candidate as Record<string, unknown>;
      if (typeof key === 'string') {
        if (key in entries) next.push(entries[key]);
      } else {
        next.push(...Object.values(entries));
      }
    }
    candidates = next;
  }
  if (candidates.length === 0)
    return unknownToken('FindInMap', 'Fn::FindInMap names no entry of the template Mappings');
  if (candidates.length === 1) return renderSegments(candidates[0], context, depth + 1);
  const unfixed = candidates
    .map((candidate) => renderValue(candidate, context, depth + 1))
    .find((value) => !isFixedValue(value));
  if (unfixed !== undefined) return unknownToken('FindInMap', `Fn::FindInMap may pick '${unfixed.display}'`);
  return [{ kind: 'token', label: `FindInMap ${String(argument[0])}`, fixed: true }];
}

function renderIf(argument: unknown, context: TemplateContext, depth: number): ValueSegment[] {
  if (!Array.isArray(argument) || argument.length !== 3) return unknownToken('If', 'Fn::If is malformed');
  const branches = [argument[1], argument[2]].map((branch) => renderValue(branch, context, depth + 1));
  const unfixed = branches.find((branch) => !isFixedValue(branch));
  if (unfixed) {
    return unknownToken(
      'If',
      `a branch of Fn::If (condition '${String(argument[0])}') is '${unfixed.display}'`,
    );
  }
  return [{ kind: 'token', label: `If ${String(argument[0])}`, fixed: true }];
}

const WILDCARD = /[*?]/;
const POLICY_VARIABLE = /\$\{[^}]*\}/;

/** Why a rendered value is not fixed, or undefined when it is fixed. */
export function whyNotFixed(value: RenderedValue): string | undefined {
  for (const segment of value.segments) {
    if (segment.kind === 'token') {
      if (!segment.fixed) return segment.why ?? `'${segment.label}' is not known before deployment`;
    } else if (WILDCARD.test(segment.text)) {
      return `'${value.display}' contains a wildcard`;
    } else if (POLICY_VARIABLE.test(segment.text)) {
      return `'${value.display}' contains a policy variable`;
    }
  }
  return undefined;
}

/** A fixed value contains no wildcard and no policy variable, and nothing unknowable before deployment. */
export function isFixedValue(value: RenderedValue): boolean {
  return whyNotFixed(value) === undefined;
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
