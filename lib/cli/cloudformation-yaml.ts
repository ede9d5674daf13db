/**
 * CloudFormation YAML: plain YAML plus the short-form intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`, ...), each
 * read into the long form (`{ Ref: ... }`, `{ "Fn::Sub": ... }`) that the rules read.
 *
 * The `yaml` package builds the document; this module turns it into plain values in one walk of its own,
 * so an alias inside a short form resolves against the document, an unknown tag becomes a value the
 * judgement cannot read (never a dropped value, never a warning on stderr), and the limits that keep a
 * hostile file from exhausting memory or the call stack are checked as the walk goes.
 */
import type { CST, Document, LineCounter, Node as YamlNode } from 'yaml';

type YamlModule = typeof import('yaml');

/**
 * The short forms CloudFormation defines: intrinsic and condition functions, and the functions of template
 * Rules. `!Ref`, `!Condition` and `!GetAtt` have long forms of their own; every other `!Name`, these and
 * unknown ones alike, becomes `{ "Fn::Name": value }`, which the judgement reads when it knows the function
 * and otherwise treats as a value it cannot read.
 */
export const CLOUDFORMATION_TAGS = [
  'And',
  'Base64',
  'Cidr',
  'Condition',
  'Contains',
  'EachMemberEquals',
  'EachMemberIn',
  'Equals',
  'FindInMap',
  'GetAZs',
  'GetAtt',
  'If',
  'ImportValue',
  'Join',
  'Length',
  'Not',
  'Or',
  'Ref',
  'RefAll',
  'Select',
  'Split',
  'Sub',
  'ToJsonString',
  'Transform',
  'ValueOf',
  'ValueOfAll',
] as const;

/** Aliases one template may use: as many as the `yaml` package allows by default. */
export const MAX_YAML_ALIASES = 100;

/** Values all aliases of one template may expand to together: a billion laughs stops here. */
export const MAX_ALIAS_EXPANDED_VALUES = 100_000;

/**
 * Open collections at any point of the document, as the YAML parser counts them (about two per level of a
 * block mapping). Real templates stay under 40; composing the document and the walk below recurse once per
 * level, and a file of a million `[` must be refused before it exhausts the call stack (or, as V8 may do
 * near the stack limit, aborts the process).
 */
export const MAX_YAML_NESTING = 256;

let loadedYaml: YamlModule | undefined;

function yamlPackage(): YamlModule {
  // Loaded on first use: the YAML parser costs ~60 ms of start-up that JSON templates and cdk.out never need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loadedYaml ??= require('yaml') as YamlModule;
  return loadedYaml;
}

/**
 * Parses a CloudFormation template written in YAML into plain values. Throws an Error with a one-line
 * message (and the line it concerns) on malformed YAML, several documents, or input past the limits above.
 *
 * @example
 * parseCloudFormationYaml('Arn: !GetAtt Roll.Arn\n'); // { Arn: { 'Fn::GetAtt': ['Roll', 'Arn'] } }
 * parseCloudFormationYaml('Anyone: &anyone "*"\nWho: !If [IsOpen, *anyone, none]\n');
 * // { Anyone: '*', Who: { 'Fn::If': ['IsOpen', '*', 'none'] } }
 */
export function parseCloudFormationYaml(text: string): unknown {
  const yaml = yamlPackage();
  const lineCounter = new yaml.LineCounter();
  const document = composeOneDocument(yaml, text, lineCounter);
  return new DocumentReader(yaml, lineCounter).read(document.contents).value;
}

function position(lineCounter: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return '';
  const { line, col } = lineCounter.linePos(offset);
  return ` (line ${line}, column ${col})`;
}

/** The parser's tokens, refused as soon as the nesting passes {@link MAX_YAML_NESTING}. */
function syntaxTokens(yaml: YamlModule, text: string, lineCounter: LineCounter): CST.Token[] {
  const parser = new yaml.Parser(lineCounter.addNewLine);
  // Parser.parse() records the first line itself; feeding it lexemes one by one, we do.
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let documents = 0;
  for (const lexeme of new yaml.Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) {
      tokens.push(token);
      if (token.type === 'document' && ++documents > 1) throw severalDocuments(lineCounter, token.offset);
    }
    if (parser.stack.length > MAX_YAML_NESTING) {
      throw new Error(
        `nested more than ${MAX_YAML_NESTING} collections deep${position(lineCounter, parser.offset)}`,
      );
    }
  }
  for (const token of parser.end()) {
    tokens.push(token);
    if (token.type === 'document' && ++documents > 1) throw severalDocuments(lineCounter, token.offset);
  }
  return tokens;
}

function severalDocuments(lineCounter: LineCounter, offset: number): Error {
  return new Error(`a template is one YAML document; another one starts${position(lineCounter, offset)}`);
}

function composeOneDocument(yaml: YamlModule, text: string, lineCounter: LineCounter): Document.Parsed {
  const tokens = syntaxTokens(yaml, text, lineCounter);
  // The composer makes an Error for every problem it meets, a million for a megabyte of `"`, and only the
  // first is shown: without stack traces they cost a tenth. Restored before anything else can run.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let document: Document.Parsed;
  try {
    // uniqueKeys: false keeps the last of duplicate keys, as JSON.parse does, and skips a check that is
    // quadratic in the size of a mapping. Warnings (unknown tags among them) are never printed.
    [document] = new yaml.Composer({ uniqueKeys: false }).compose(tokens, true, text.length);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const [error] = document.errors;
  if (error !== undefined) {
    throw new Error(`${error.message.split('\n')[0]}${position(lineCounter, error.pos[0])}`);
  }
  return document;
}

/** A value read from the document, and how many values it stands for with every alias in it expanded. */
interface ReadValue {
  readonly value: unknown;
  readonly size: number;
}

const NULL_VALUE: ReadValue = { value: null, size: 1 };

/** `tag:yaml.org,2002:str` and the like, and the non-specific `!`: YAML's own meaning applies. */
function isStandardTag(tag: string): boolean {
  return tag === '!' || tag.startsWith('tag:yaml.org,2002:');
}

/** `!Ref` → `Ref`, `!Sub` → `Fn::Sub`, `!Foo` → `Fn::Foo`. */
function longFormKey(tag: string): string {
  const name = tag.startsWith('!') ? tag.slice(1) : tag;
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

/** `!GetAtt Resource.Attribute` is the one short form whose scalar is not the long form's argument. */
function getAttArgument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const dot = value.indexOf('.');
  return dot === -1 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

/**
 * Reads a document into plain values in one pass, in document order, so an alias finds the last anchor of
 * its name before it (YAML's rule). An anchored node is read once; each alias to it shares the value.
 */
class DocumentReader {
  private readonly anchors = new Map<string, YamlNode>();
  private readonly anchoredValues = new Map<YamlNode, ReadValue>();
  /** Anchored nodes being read: an alias to one of them would make the value contain itself. */
  private readonly unfinished = new Set<YamlNode>();
  private aliases = 0;
  private aliasExpandedValues = 0;

  constructor(
    private readonly yaml: YamlModule,
    private readonly lineCounter: LineCounter,
  ) {}

  read(node: unknown): ReadValue {
    if (node === null || node === undefined) return NULL_VALUE;
    if (this.yaml.isAlias(node)) return this.readAlias(node);
    if (!this.yaml.isNode(node)) return NULL_VALUE;
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor === undefined || anchor === '') return this.readTagged(node);
    this.anchors.set(anchor, node);
    this.unfinished.add(node);
    const read = this.readTagged(node);
    this.unfinished.delete(node);
    this.anchoredValues.set(node, read);
    return read;
  }

  private where(node: YamlNode): string {
    return position(this.lineCounter, node.range?.[0]);
  }

  private readAlias(alias: YamlNode & { source: string }): ReadValue {
    const target = this.anchors.get(alias.source);
    if (target === undefined) {
      throw new Error(`alias *${alias.source} has no anchor &${alias.source} before it${this.where(alias)}`);
    }
    const read = this.anchoredValues.get(target);
    if (read === undefined || this.unfinished.has(target)) {
      throw new Error(`alias *${alias.source} refers to a node that contains it${this.where(alias)}`);
    }
    this.aliases += 1;
    if (this.aliases > MAX_YAML_ALIASES) {
      throw new Error(
        `more than ${MAX_YAML_ALIASES} aliases; registry-guard expands at most ${MAX_YAML_ALIASES}${this.where(alias)}`,
      );
    }
    this.aliasExpandedValues += read.size;
    if (this.aliasExpandedValues > MAX_ALIAS_EXPANDED_VALUES) {
      throw new Error(
        `aliases expand to more than ${MAX_ALIAS_EXPANDED_VALUES} values (an alias bomb?)${this.where(alias)}`,
      );
    }
    return read;
  }

  private readTagged(node: YamlNode): ReadValue {
    const read = this.readUntagged(node);
    const tag = node.tag;
    if (tag === undefined || isStandardTag(tag)) return read;
    const argument = tag === '!GetAtt' ? getAttArgument(read.value) : read.value;
    return { value: Object.fromEntries([[longFormKey(tag), argument]]), size: read.size + 1 };
  }

  private readUntagged(node: YamlNode): ReadValue {
    const yaml = this.yaml;
    if (yaml.isScalar(node)) return { value: scalarValue(node), size: 1 };
    if (yaml.isMap(node)) return this.readPairs(node.items);
    if (yaml.isSeq(node)) {
      let size = 1;
      const items = node.items.map((item) => {
        // !!omap and !!pairs hold pairs directly in a sequence: each reads as a one-key mapping.
        const read = yaml.isPair(item) ? this.readPairs([item]) : this.read(item);
        size += read.size;
        return read.value;
      });
      return { value: items, size };
    }
    return NULL_VALUE;
  }

  private readPairs(pairs: readonly unknown[]): ReadValue {
    let size = 1;
    const entries: [string, unknown][] = [];
    for (const pair of pairs) {
      if (!this.yaml.isPair(pair)) continue;
      const key = this.readKey(pair.key);
      const read = this.read(pair.value);
      size += read.size;
      entries.push([key, read.value]);
    }
    // Object.fromEntries, not assignment: a key named __proto__ stays a key, as with JSON.parse.
    return { value: Object.fromEntries(entries), size };
  }

  private readKey(keyNode: unknown): string {
    const key = this.read(keyNode).value;
    if (key === null) return '';
    if (typeof key === 'object') {
      const where = this.yaml.isNode(keyNode) ? this.where(keyNode) : '';
      throw new Error(
        `a mapping key is a collection or a tagged value; CloudFormation keys are strings${where}`,
      );
    }
    return String(key);
  }
}

function scalarValue(scalar: YamlNode & { value: unknown; source?: unknown }): unknown {
  const value = scalar.value;
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  // !!binary, !!timestamp and the like: CloudFormation reads the text as written.
  return typeof scalar.source === 'string' ? scalar.source : String(value);
}
