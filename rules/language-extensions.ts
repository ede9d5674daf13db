/**
 * `Fn::ForEach` of the AWS::LanguageExtensions transform, expanded as CloudFormation expands it before a
 * deployment, so the rules see every resource, output and condition a loop creates. Pure: no CDK, no I/O.
 *
 * A loop whose collection is known only at deploy time (a `Ref` to a CommaDelimitedList parameter, ...) is
 * expanded once, with its identifier bound to a value the judgement cannot read: whatever the loop builds
 * from it is still checked, and counts as possibly public.
 */

/** Object keys that start a loop: `Fn::ForEach::<LoopName>`. */
export const FOR_EACH_KEY_PREFIX = 'Fn::ForEach::';

/** The function name of the value a loop identifier holds when its collection is known only at deploy time. */
export const UNKNOWN_ITEM_FUNCTION = 'Fn::ForEachItem';

/** CloudFormation allows loops nested five deep. */
export const MAX_FOR_EACH_NESTING = 5;

/** Keys (resources, outputs, properties, ...) all loops of one template may generate together. */
export const MAX_GENERATED_KEYS = 100_000;

/**
 * Values all loops of one template may copy together, each counted once per item: a few small loops nested
 * over a large output map multiply, and the expansion must stay about the size of the largest template read.
 */
export const MAX_GENERATED_VALUES = 1_000_000;

/** Nesting of objects and lists: far beyond any real template, far within the call stack. */
export const MAX_TEMPLATE_DEPTH = 512;

const TEMPLATE_EXPANSION_ERROR = Symbol.for('registry-guard.TemplateExpansionError');

/** A template whose loops cannot be expanded: malformed, or past one of the limits above. */
export class TemplateExpansionError extends Error {
  /** Recognises the error without `instanceof`, which fails across copies of this package. */
  static isTemplateExpansionError(error: unknown): error is TemplateExpansionError {
    return (
      error instanceof Error &&
      (error as unknown as Record<symbol, unknown>)[TEMPLATE_EXPANSION_ERROR] === true
    );
  }

  /** @param message one line, starting with the loop it concerns when there is one. */
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExpansionError';
    Object.defineProperty(this, TEMPLATE_EXPANSION_ERROR, { value: true });
  }
}

/**
 * Expands every `Fn::ForEach::<LoopName>` key of a parsed template: in Resources, Outputs, Conditions and
 * inside any property map, nested loops included. Returns the template unchanged (the same object) when it
 * has no loop; never modifies its argument.
 *
 * @example
 * expandForEach({
 *   Resources: {
 *     'Fn::ForEach::Buckets': ['Name', ['Logs', 'Data'], { '${Name}Bucket': { Type: 'AWS::S3::Bucket' } }],
 *   },
 * });
 * // { Resources: { LogsBucket: { Type: 'AWS::S3::Bucket' }, DataBucket: { Type: 'AWS::S3::Bucket' } } }
 * @throws TemplateExpansionError on a malformed loop, or past {@link MAX_FOR_EACH_NESTING},
 *   {@link MAX_GENERATED_KEYS}, {@link MAX_GENERATED_VALUES} or {@link MAX_TEMPLATE_DEPTH}.
 */
export function expandForEach(template: unknown): unknown {
  const mappings = isFields(template) && isFields(template.Mappings) ? template.Mappings : {};
  return new ForEachExpander(mappings).expand(template, 0, []);
}

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function hasOwn(fields: Fields, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(fields, key);
}

/** One pass of a loop: its identifier and the item it stands for. */
interface LoopBinding {
  readonly loopKey: string;
  readonly identifier: string;
  /** The item; undefined when the collection is known only at deploy time. */
  readonly item?: string;
}

/** What `Ref: Identifier` becomes. */
function itemValue(binding: LoopBinding): unknown {
  return binding.item ?? { [UNKNOWN_ITEM_FUNCTION]: binding.identifier };
}

/** What `${Identifier}` becomes in a key or a logical id: the item, or the identifier's name for an unknown item. */
function itemName(binding: LoopBinding): string {
  return binding.item ?? binding.identifier;
}

/** What `&{Identifier}` becomes: the item without its non-alphanumeric characters, fit for a logical id. */
function itemAlphanumericName(binding: LoopBinding): string {
  return binding.item === undefined ? binding.identifier : binding.item.replace(/[^A-Za-z0-9]/g, '');
}

function replaceAll(text: string, placeholder: string, replacement: string): string {
  // split/join rather than String.replace: the item is data, and `$&` in it must stay `$&`.
  return text.includes(placeholder) ? text.split(placeholder).join(replacement) : text;
}

/** `${Identifier}` and `&{Identifier}` in an output key (or a logical id built with Fn::Sub). */
function substituteName(text: string, binding: LoopBinding): string {
  if (!text.includes(binding.identifier)) return text;
  const named = replaceAll(text, `\${${binding.identifier}}`, itemName(binding));
  return replaceAll(named, `&{${binding.identifier}}`, itemAlphanumericName(binding));
}

interface GeneratedEntry {
  readonly key: string;
  readonly value: unknown;
  /** The loop that generated the entry, for messages. */
  readonly loopKey?: string;
}

class ForEachExpander {
  private generatedKeys = 0;
  private generatedValues = 0;

  constructor(private readonly mappings: Fields) {}

  /**
   * The value with every loop inside it expanded; the same value when it holds none. Most of a template
   * holds no loop, so nothing is allocated until something changes.
   */
  expand(value: unknown, depth: number, enclosingIdentifiers: readonly string[]): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_TEMPLATE_DEPTH) {
      throw new TemplateExpansionError(`the template is nested more than ${MAX_TEMPLATE_DEPTH} levels deep`);
    }
    if (!Array.isArray(value)) return this.expandFields(value as Fields, depth, enclosingIdentifiers);
    let items: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const expanded = this.expand(item, depth + 1, enclosingIdentifiers);
      if (expanded !== item) items ??= value.slice(0, index);
      items?.push(expanded);
    }
    return items ?? value;
  }

  private expandFields(fields: Fields, depth: number, enclosingIdentifiers: readonly string[]): Fields {
    const keys = Object.keys(fields);
    const entries = this.expandEntries(keys, Object.values(fields), depth, enclosingIdentifiers);
    if (entries === undefined) return keys.length === 1 ? resolveLogicalIdFunction(fields) : fields;
    return resolveLogicalIdFunction(fieldsOf(entries));
  }

  /**
   * The entries of an object (or of a loop's output map) with its loops expanded; undefined when nothing
   * changed. Nothing is allocated until something does: most of a template holds no loop. Loops pass
   * entries rather than objects along, as an object per item, each with keys of its own, would cost V8 a
   * new object shape per item.
   */
  private expandEntries(
    keys: readonly string[],
    values: readonly unknown[],
    depth: number,
    enclosingIdentifiers: readonly string[],
  ): GeneratedEntry[] | undefined {
    let entries: GeneratedEntry[] | undefined;
    let generated = false;
    for (let index = 0; index < keys.length; index += 1) {
      const key = keys[index];
      const value = values[index];
      if (key.startsWith(FOR_EACH_KEY_PREFIX)) {
        entries ??= entriesBefore(index, keys, values);
        generated = true;
        for (const loopEntry of this.expandLoop(key, value, depth + 1, enclosingIdentifiers)) {
          entries.push(loopEntry);
        }
        continue;
      }
      const expanded = this.expand(value, depth + 1, enclosingIdentifiers);
      if (expanded !== value) entries ??= entriesBefore(index, keys, values);
      entries?.push({ key, value: expanded });
    }
    if (entries !== undefined && generated) refuseDuplicateKeys(entries);
    return entries;
  }

  private expandLoop(
    loopKey: string,
    definition: unknown,
    depth: number,
    enclosingIdentifiers: readonly string[],
  ): GeneratedEntry[] {
    if (enclosingIdentifiers.length >= MAX_FOR_EACH_NESTING) {
      throw new TemplateExpansionError(
        `${loopKey}: Fn::ForEach loops are nested more than ${MAX_FOR_EACH_NESTING} deep, CloudFormation's limit`,
      );
    }
    if (
      !Array.isArray(definition) ||
      definition.length !== 3 ||
      typeof definition[0] !== 'string' ||
      definition[0] === '' ||
      !isFields(definition[2])
    ) {
      throw new TemplateExpansionError(
        `${loopKey}: expected [identifier, collection, output map], as the Fn::ForEach reference describes`,
      );
    }
    const [identifier, collection, outputMap] = definition as [string, unknown, Fields];
    if (enclosingIdentifiers.includes(identifier)) {
      throw new TemplateExpansionError(
        `${loopKey}: the identifier '${identifier}' is already the identifier of an enclosing loop; rename one`,
      );
    }
    const innerIdentifiers = [...enclosingIdentifiers, identifier];
    const entries: GeneratedEntry[] = [];
    for (const binding of this.bindingsOf(loopKey, identifier, collection)) {
      const substituted = this.substituteEntries(outputMap, binding, depth + 1).entries;
      const expanded =
        this.expandEntries(
          substituted.map((entry) => entry.key),
          substituted.map((entry) => entry.value),
          depth + 1,
          innerIdentifiers,
        ) ?? substituted;
      for (const entry of expanded) {
        // Keys a nested loop generated were counted there.
        if (entry.loopKey === undefined) this.countKey(loopKey);
        entries.push({ key: entry.key, value: entry.value, loopKey: entry.loopKey ?? loopKey });
      }
    }
    return entries;
  }

  private countKey(loopKey: string): void {
    this.generatedKeys += 1;
    if (this.generatedKeys > MAX_GENERATED_KEYS) {
      throw new TemplateExpansionError(
        `${loopKey}: Fn::ForEach loops generate more than ${MAX_GENERATED_KEYS} keys; registry-guard stops there`,
      );
    }
  }

  /**
   * One binding per item of a literal list (or of a list the template's Mappings hold under literal keys),
   * plus one unknown binding when any item, or the whole collection, is known only at deploy time.
   */
  private bindingsOf(loopKey: string, identifier: string, collection: unknown): LoopBinding[] {
    const list = Array.isArray(collection) ? collection : this.mappedList(collection);
    const bindings: LoopBinding[] = [];
    let hasUnknownItem = list === undefined;
    for (const item of list ?? []) {
      if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
        bindings.push({ loopKey, identifier, item: String(item) });
      } else {
        hasUnknownItem = true;
      }
    }
    if (hasUnknownItem) bindings.push({ loopKey, identifier });
    return bindings;
  }

  /** `Fn::FindInMap: [Map, Key, Key]` with literal keys naming a list in the template's Mappings. */
  private mappedList(collection: unknown): unknown[] | undefined {
    if (!isFields(collection) || Object.keys(collection).length !== 1) return undefined;
    const path = collection['Fn::FindInMap'];
    if (!Array.isArray(path) || path.length < 3) return undefined;
    let node: unknown = this.mappings;
    for (const key of path.slice(0, 3)) {
      if (typeof key !== 'string' || !isFields(node) || !hasOwn(node, key)) return undefined;
      node = node[key];
    }
    return Array.isArray(node) ? node : undefined;
  }

  private countValue(binding: LoopBinding): void {
    this.generatedValues += 1;
    if (this.generatedValues > MAX_GENERATED_VALUES) {
      throw new TemplateExpansionError(
        `${binding.loopKey}: Fn::ForEach loops generate more than ${MAX_GENERATED_VALUES} values; registry-guard stops there`,
      );
    }
  }

  /** A copy of the value for one item: `Ref: Identifier` and `${Identifier}` in Fn::Sub filled in. */
  private substitute(value: unknown, binding: LoopBinding, depth: number): unknown {
    if (depth > MAX_TEMPLATE_DEPTH) {
      throw new TemplateExpansionError(`the template is nested more than ${MAX_TEMPLATE_DEPTH} levels deep`);
    }
    this.countValue(binding);
    if (Array.isArray(value)) {
      let changed = false;
      const items = value.map((item) => {
        const substituted = this.substitute(item, binding, depth + 1);
        changed ||= substituted !== item;
        return substituted;
      });
      return changed ? items : value;
    }
    if (!isFields(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [name] = keys;
      const argument = value[name];
      if (name === 'Ref') return this.substituteRef(value, argument, binding, depth);
      if (name === 'Fn::Sub') return this.substituteSub(value, argument, binding, depth);
      if (name === 'Fn::GetAtt') return this.substituteGetAtt(value, argument, binding, depth);
    }
    return this.substituteFields(value, binding, depth);
  }

  private substituteFields(fields: Fields, binding: LoopBinding, depth: number): Fields {
    const substituted = this.substituteEntries(fields, binding, depth);
    return substituted.changed ? fieldsOf(substituted.entries) : fields;
  }

  /** The entries of an object for one item, keys and values substituted. */
  private substituteEntries(
    fields: Fields,
    binding: LoopBinding,
    depth: number,
  ): { entries: GeneratedEntry[]; changed: boolean } {
    let changed = false;
    let keyChanged = false;
    const entries = Object.entries(fields).map(([key, value]): GeneratedEntry => {
      const substitutedKey = substituteName(key, binding);
      const substituted = this.substitute(value, binding, depth + 1);
      keyChanged ||= substitutedKey !== key;
      changed ||= substitutedKey !== key || substituted !== value;
      return { key: substitutedKey, value: substituted };
    });
    if (keyChanged) refuseDuplicateKeys(entries, binding.loopKey);
    return { entries, changed };
  }

  private substituteRef(ref: Fields, target: unknown, binding: LoopBinding, depth: number): unknown {
    if (target === binding.identifier) return itemValue(binding);
    // `Ref: !Sub Bucket${Identifier}` names a logical id the loop generated with the same placeholder.
    if (isSubFunction(target)) {
      return { Ref: { 'Fn::Sub': this.substituteLogicalIdSub(target, binding, depth) } };
    }
    const substituted = this.substitute(target, binding, depth + 1);
    return substituted === target ? ref : { Ref: substituted };
  }

  private substituteGetAtt(getAtt: Fields, argument: unknown, binding: LoopBinding, depth: number): unknown {
    if (!Array.isArray(argument) || !isSubFunction(argument[0])) {
      return this.substituteFields(getAtt, binding, depth);
    }
    const [logicalId, ...attribute] = argument;
    return {
      'Fn::GetAtt': [
        { 'Fn::Sub': this.substituteLogicalIdSub(logicalId as Fields, binding, depth) },
        ...attribute.map((part) => this.substitute(part, binding, depth + 1)),
      ],
    };
  }

  /** Fn::Sub naming a logical id: placeholders become names, as in output keys. */
  private substituteLogicalIdSub(sub: Fields, binding: LoopBinding, depth: number): unknown {
    const argument = sub['Fn::Sub'];
    if (typeof argument === 'string') return substituteName(argument, binding);
    const [text, variables] = argument as unknown[];
    const substitutedVariables = this.substitute(variables, binding, depth + 1);
    const shadowed = isFields(variables) && hasOwn(variables, binding.identifier);
    return [
      shadowed || typeof text !== 'string' ? text : substituteName(text, binding),
      substitutedVariables,
    ];
  }

  /**
   * Fn::Sub building a value: a known item is written into the text; an unknown one is passed as a variable,
   * so the judgement reads `${Identifier}` as the unreadable value it is. A variable of the same name wins.
   */
  private substituteSub(sub: Fields, argument: unknown, binding: LoopBinding, depth: number): unknown {
    const placeholder = `\${${binding.identifier}}`;
    const alphanumericPlaceholder = `&{${binding.identifier}}`;
    const uses = (text: string): boolean =>
      text.includes(placeholder) || text.includes(alphanumericPlaceholder);
    const fillIn = (text: string): string =>
      binding.item === undefined
        ? replaceAll(text, alphanumericPlaceholder, placeholder)
        : substituteName(text, binding);
    const unknownVariable: [string, unknown] = [binding.identifier, itemValue(binding)];

    if (typeof argument === 'string') {
      if (!uses(argument)) return sub;
      if (binding.item !== undefined) return { 'Fn::Sub': fillIn(argument) };
      return { 'Fn::Sub': [fillIn(argument), Object.fromEntries([unknownVariable])] };
    }
    if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
      return this.substituteFields(sub, binding, depth);
    }
    const [text, variables] = argument as [string, unknown];
    const substitutedVariables = this.substitute(variables, binding, depth + 1);
    const shadowed = isFields(variables) && hasOwn(variables, binding.identifier);
    if (shadowed || !uses(text)) {
      return substitutedVariables === variables ? sub : { 'Fn::Sub': [text, substitutedVariables] };
    }
    if (binding.item !== undefined) return { 'Fn::Sub': [fillIn(text), substitutedVariables] };
    // An unknown item in a Sub whose variables are computed: the whole value is as unknown as the item.
    if (!isFields(substitutedVariables)) return itemValue(binding);
    return {
      'Fn::Sub': [
        fillIn(text),
        Object.fromEntries([...Object.entries(substitutedVariables), unknownVariable]),
      ],
    };
  }
}

function entriesBefore(end: number, keys: readonly string[], values: readonly unknown[]): GeneratedEntry[] {
  return keys.slice(0, end).map((key, index) => ({ key, value: values[index] }));
}

function fieldsOf(entries: readonly GeneratedEntry[]): Fields {
  // Object.fromEntries, not assignment: a key named __proto__ stays a key, as with JSON.parse.
  return Object.fromEntries(entries.map((entry) => [entry.key, entry.value]));
}

function isSubFunction(value: unknown): value is Fields {
  if (!isFields(value) || Object.keys(value).length !== 1 || !hasOwn(value, 'Fn::Sub')) return false;
  const argument = value['Fn::Sub'];
  return typeof argument === 'string' || (Array.isArray(argument) && argument.length === 2);
}

/** The text of a Fn::Sub with nothing left to substitute: after a loop filled in its identifier, a plain name. */
function plainSubText(value: unknown): string | undefined {
  if (!isSubFunction(value)) return undefined;
  const argument = value['Fn::Sub'];
  const text = Array.isArray(argument) ? argument[0] : argument;
  return typeof text === 'string' && !text.includes('${') ? text : undefined;
}

/**
 * With the transform, `Ref` and `Fn::GetAtt` may name their logical id with an intrinsic function; the
 * transform resolves it before deployment, so a rule reading `Ref: S3BucketA` finds the bucket.
 */
function resolveLogicalIdFunction(fields: Fields): Fields {
  const keys = Object.keys(fields);
  if (keys.length !== 1) return fields;
  if (keys[0] === 'Ref') {
    const name = plainSubText(fields.Ref);
    return name === undefined ? fields : { Ref: name };
  }
  const getAtt = fields['Fn::GetAtt'];
  if (keys[0] === 'Fn::GetAtt' && Array.isArray(getAtt)) {
    const name = plainSubText(getAtt[0]);
    return name === undefined ? fields : { 'Fn::GetAtt': [name, ...getAtt.slice(1)] };
  }
  return fields;
}

/** CloudFormation refuses a template whose loops generate a key twice; so does the expansion. */
function refuseDuplicateKeys(entries: readonly GeneratedEntry[], substitutingLoopKey?: string): void {
  const seen = new Map<string, GeneratedEntry>();
  for (const entry of entries) {
    const earlier = seen.get(entry.key);
    if (earlier !== undefined) {
      const loopKey = substitutingLoopKey ?? entry.loopKey ?? earlier.loopKey;
      throw new TemplateExpansionError(
        `${loopKey}: generates the key '${entry.key}' twice (or a key the template already has); ` +
          'make each output key unique with ${Identifier} or &{Identifier}',
      );
    }
    seen.set(entry.key, entry);
  }
}
