/**
 * Finds and parses the templates behind the paths given to `registry-guard check`: a template file
 * (JSON or YAML) or a cloud assembly directory (`cdk.out`), nested assemblies of CDK stages included.
 *
 * Every path is untrusted input: only regular files are opened (a named pipe would block forever, a device
 * never ends), no file over {@link MAX_INPUT_FILE_BYTES} is read, and a cloud assembly may only point at
 * files inside its own directory. Anything else is a {@link CliInputError} naming the path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { expandForEach, TemplateExpansionError } from '../../rules/language-extensions';
import { parseCloudFormationYaml } from './cloudformation-yaml';
import { CliInputError, fileErrorReason } from './input-error';

/** A template read from disk. */
export interface LoadedTemplate {
  /** The file, as a path relative to the working directory when it is below it. */
  readonly path: string;
  /** The parsed template, `Fn::ForEach` loops expanded: an object with a `Resources` object. */
  readonly template: Record<string, unknown>;
  /** The file's text (without a byte order mark), kept so reports can point at line numbers. */
  readonly text: string;
}

/**
 * The largest file read: a template, a manifest. CloudFormation itself takes templates up to 1 MB; CDK apps
 * checked as one template reach 11 MB (5,000 buckets), so 32 MiB leaves room and still bounds memory.
 */
export const MAX_INPUT_FILE_BYTES = 32 * 1024 * 1024;

const MAX_INPUT_FILE_SIZE_TEXT = `${MAX_INPUT_FILE_BYTES / (1024 * 1024)} MiB`;
const MAX_ASSEMBLY_DEPTH = 16;
const GIVEN_PATH_HINT = 'pass a template file or a cdk.out directory';
const ASSEMBLY_FILE_HINT = 'a cloud assembly holds regular files only; synthesize it again';

/** Reads every template the paths name, in order. Throws {@link CliInputError} on anything unreadable. */
export function loadTemplates(paths: readonly string[]): LoadedTemplate[] {
  return paths.flatMap((given) => {
    const stats = statPath(given, given);
    if (stats.isDirectory()) return loadCloudAssembly(given);
    if (!stats.isFile()) throw notRegularFile(given, stats, GIVEN_PATH_HINT);
    return [loadTemplateFile(given)];
  });
}

/** Parses one template file: JSON when it looks like JSON, CloudFormation YAML otherwise. */
export function loadTemplateFile(file: string): LoadedTemplate {
  return readTemplate(file, { hint: GIVEN_PATH_HINT, resourcesMayBeAbsent: false });
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function statPath(file: string, shown: string): fs.Stats {
  try {
    return fs.statSync(file);
  } catch (error) {
    throw new CliInputError(`${shown}: ${fileErrorReason(error)}`);
  }
}

function fileKind(stats: fs.Stats): string {
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a file or directory';
}

function notRegularFile(shown: string, stats: fs.Stats, hint: string): CliInputError {
  return new CliInputError(`${shown}: not a regular file (${fileKind(stats)}); ${hint}`);
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function refuseOversized(shown: string, bytes: number): void {
  if (bytes > MAX_INPUT_FILE_BYTES) {
    throw new CliInputError(
      `${shown}: the file is ${mebibytes(bytes)}, over the ${MAX_INPUT_FILE_SIZE_TEXT} limit for one template ` +
        `or manifest (CloudFormation's own limit is 1 MB); check the path, or split the template`,
    );
  }
}

// O_NONBLOCK: should the path have become a named pipe since it was checked, opening it returns at once
// instead of waiting for a writer; the fstat below then refuses it. Windows has no such flag, nor pipes here.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * The text of a regular file of at most {@link MAX_INPUT_FILE_BYTES}, without a leading byte order mark.
 * The path is checked before it is opened (opening some devices has effects of its own) and the open file
 * again, so a file swapped or grown in between can neither block nor exhaust memory.
 */
function readInputText(file: string, shown: string, hint: string): string {
  const stats = statPath(file, shown);
  if (!stats.isFile()) throw notRegularFile(shown, stats, hint);
  refuseOversized(shown, stats.size);
  let descriptor: number;
  try {
    descriptor = fs.openSync(file, OPEN_FLAGS);
  } catch (error) {
    throw new CliInputError(`${shown}: ${fileErrorReason(error)}`);
  }
  try {
    const opened = fs.fstatSync(descriptor);
    if (!opened.isFile()) throw notRegularFile(shown, opened, hint);
    refuseOversized(shown, opened.size);
    return withoutByteOrderMark(readAtMostLimit(descriptor, opened.size, shown).toString('utf8'));
  } catch (error) {
    if (error instanceof CliInputError) throw error;
    throw new CliInputError(`${shown}: ${fileErrorReason(error)}`);
  } finally {
    fs.closeSync(descriptor);
  }
}

/** Reads until the end of the file, and never more than the limit plus the one byte that shows it is over. */
function readAtMostLimit(descriptor: number, expectedBytes: number, shown: string): Buffer {
  let buffer = Buffer.allocUnsafe(Math.min(expectedBytes, MAX_INPUT_FILE_BYTES) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > MAX_INPUT_FILE_BYTES) {
        throw new CliInputError(
          `${shown}: the file grew past the ${MAX_INPUT_FILE_SIZE_TEXT} limit while being read; ` +
            'check it again once it is complete',
        );
      }
      // Files that report less than they hold (procfs, a file still being written) grow the buffer.
      const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_INPUT_FILE_BYTES + 1));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const bytesRead = fs.readSync(descriptor, buffer, length, buffer.length - length, null);
    if (bytesRead === 0) return buffer.subarray(0, length);
    length += bytesRead;
  }
}

/** Editors on Windows write a UTF-8 byte order mark; neither JSON.parse nor CloudFormation wants it. */
function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** How a template is read: inside a cloud assembly, CDK writes a stack with no resources without `Resources`. */
interface TemplateSource {
  readonly hint: string;
  readonly resourcesMayBeAbsent: boolean;
}

function readTemplate(file: string, source: TemplateSource): LoadedTemplate {
  const shown = displayPath(file);
  const text = readInputText(file, shown, source.hint);
  const parsed = parseTemplateText(text, file, shown);
  const expanded = expandLanguageExtensions(parsed, text, shown);
  return { path: shown, template: validateTemplate(expanded, shown, source.resourcesMayBeAbsent), text };
}

/** JSON when the name says so or the first character opens an object or a list; YAML otherwise. */
function looksLikeJson(file: string, text: string): boolean {
  if (file.endsWith('.json')) return true;
  for (const character of text) {
    if (character !== ' ' && character !== '\t' && character !== '\n' && character !== '\r') {
      return character === '{' || character === '[';
    }
  }
  return false;
}

function parseTemplateText(text: string, file: string, shown: string): unknown {
  const format = looksLikeJson(file, text) ? 'JSON' : 'YAML';
  try {
    return format === 'JSON' ? JSON.parse(text) : parseCloudFormationYaml(text);
  } catch (error) {
    const reason = error instanceof RangeError ? 'nested too deeply to read' : firstLine(error);
    throw new CliInputError(`${shown}: invalid ${format}: ${reason}`);
  }
}

/**
 * Expanding walks the whole template, and almost no template holds a loop: a key `Fn::ForEach::...` can only
 * be spelt with the text `ForEach` in it, or with an escape (a backslash) in JSON or a double-quoted YAML
 * key. YAML folding joins lines with a space, so it cannot spell one either.
 */
function mayHoldForEach(text: string): boolean {
  return text.includes('ForEach') || text.includes('\\');
}

function expandLanguageExtensions(parsed: unknown, text: string, shown: string): unknown {
  if (!mayHoldForEach(text)) return parsed;
  try {
    return expandForEach(parsed);
  } catch (error) {
    if (TemplateExpansionError.isTemplateExpansionError(error)) {
      throw new CliInputError(`${shown}: ${error.message}`);
    }
    throw error;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

function validateTemplate(
  parsed: unknown,
  shown: string,
  resourcesMayBeAbsent: boolean,
): Record<string, unknown> {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliInputError(`${shown}: not a CloudFormation template (expected an object at the top level)`);
  }
  const template = parsed as Record<string, unknown>;
  // A CDK stack with no resources is synthesized (and skipped by `cdk deploy`): it has nothing to check.
  if (resourcesMayBeAbsent && template.Resources === undefined) return { ...template, Resources: {} };
  const resources = template.Resources;
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new CliInputError(`${shown}: not a CloudFormation template (no Resources object)`);
  }
  for (const [logicalId, resource] of Object.entries(resources)) {
    const type = (resource as { Type?: unknown } | null)?.Type;
    if (
      resource === null ||
      typeof resource !== 'object' ||
      Array.isArray(resource) ||
      typeof type !== 'string'
    ) {
      throw new CliInputError(
        `${shown}: resource ${truncated(logicalId)} is not an object with a string Type`,
      );
    }
  }
  return template;
}

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Names from a template or manifest are data and may be a megabyte long: messages show the start. */
function truncated(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A value from a manifest as a message shows it: a string quoted and cut short, anything else by its kind. */
function shortText(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'none' : `a ${describeJson(value)}`;
  return `'${truncated(value)}'`;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

const STACK_ARTIFACT = 'aws:cloudformation:stack';
const ASSET_MANIFEST_ARTIFACT = 'cdk:asset-manifest';
const NESTED_ASSEMBLY_ARTIFACT = 'cdk:cloud-assembly';

/** One cloud assembly directory being read: where it is, and the manifest that points into it. */
interface Assembly {
  readonly directory: string;
  /** Its real path: files it points at must resolve inside it, symbolic links included. */
  readonly realDirectory: string;
  readonly shownManifest: string;
}

/** What reading one `cdk.out` (with its nested assemblies) has found so far. */
interface AssemblyWalk {
  readonly seenAssemblies: Set<string>;
  readonly seenTemplates: Set<string>;
  readonly templates: LoadedTemplate[];
}

function loadCloudAssembly(directory: string): LoadedTemplate[] {
  const walk: AssemblyWalk = { seenAssemblies: new Set(), seenTemplates: new Set(), templates: [] };
  readAssembly(directory, 0, walk);
  if (walk.templates.length === 0) {
    throw new CliInputError(
      `${displayPath(directory)}: the cloud assembly lists no CloudFormation template; ` +
        'synthesize the app again (cdk synth), or pass a template file',
    );
  }
  return walk.templates;
}

function readAssembly(directory: string, depth: number, walk: AssemblyWalk): void {
  const shownDirectory = displayPath(directory);
  if (depth > MAX_ASSEMBLY_DEPTH) {
    throw new CliInputError(`${shownDirectory}: cloud assemblies nested too deeply`);
  }
  const realDirectory = realPathOf(directory, shownDirectory);
  if (walk.seenAssemblies.has(realDirectory)) {
    throw new CliInputError(
      `${shownDirectory}: the cloud assembly is listed inside itself; fix the directoryName in its parent's manifest.json`,
    );
  }
  walk.seenAssemblies.add(realDirectory);
  const manifestPath = path.join(directory, 'manifest.json');
  const manifest = readAssemblyManifest(directory, manifestPath);
  const assembly: Assembly = { directory, realDirectory, shownManifest: displayPath(manifestPath) };
  const artifacts = manifest.artifacts ?? {};
  if (!isFields(artifacts)) {
    throw new CliInputError(`${assembly.shownManifest}: artifacts is ${shortText(artifacts)}, not an object`);
  }
  for (const [artifactId, artifact] of Object.entries(artifacts)) {
    readArtifact(assembly, artifactId, artifact, depth, walk);
  }
}

function readAssemblyManifest(directory: string, manifestPath: string): Fields {
  try {
    fs.statSync(manifestPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliInputError(
        `${displayPath(directory)}: not a cloud assembly (no manifest.json); pass a template file or cdk.out`,
      );
    }
    throw new CliInputError(`${displayPath(manifestPath)}: ${fileErrorReason(error)}`);
  }
  return readJsonObject(manifestPath, 'cloud assembly manifest');
}

function readJsonObject(file: string, what: string): Fields {
  const shown = displayPath(file);
  const text = readInputText(file, shown, ASSEMBLY_FILE_HINT);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof RangeError ? 'nested too deeply to read' : firstLine(error);
    throw new CliInputError(`${shown}: invalid JSON: ${reason}`);
  }
  if (!isFields(parsed)) {
    throw new CliInputError(
      `${shown}: not a ${what} (expected a JSON object, found ${describeJson(parsed)})`,
    );
  }
  return parsed;
}

/**
 * A stack's template, the templates a stack deploys itself (asset manifests), or a nested assembly. An
 * artifact with a templateFile that is not a stack is refused rather than skipped: a misspelt type would
 * otherwise hide a template, and the run would pass.
 */
function readArtifact(
  assembly: Assembly,
  artifactId: string,
  artifact: unknown,
  depth: number,
  walk: AssemblyWalk,
): void {
  const artifactName = `artifact ${shortText(artifactId)}`;
  const fail = (problem: string): CliInputError =>
    new CliInputError(
      `${assembly.shownManifest}: ${artifactName} ${problem}; fix the manifest or synthesize again`,
    );
  if (!isFields(artifact)) throw fail('is not an object');
  const type = artifact.type;
  const properties = isFields(artifact.properties) ? artifact.properties : {};
  if (Object.prototype.hasOwnProperty.call(properties, 'templateFile') || type === STACK_ARTIFACT) {
    if (type !== STACK_ARTIFACT) {
      throw fail(`has a templateFile but its type is ${shortText(type)}, not '${STACK_ARTIFACT}'`);
    }
    const templateFile = properties.templateFile;
    if (typeof templateFile !== 'string')
      throw fail(`has templateFile ${shortText(templateFile)}, not a file name`);
    readTemplateOnce(resolveInside(assembly, assembly.shownManifest, templateFile), walk);
  } else if (type === ASSET_MANIFEST_ARTIFACT) {
    const file = properties.file;
    if (typeof file !== 'string') throw fail(`has file ${shortText(file)}, not a file name`);
    const assetManifest = resolveInside(assembly, assembly.shownManifest, file);
    for (const templateFile of deployedTemplateFiles(assetManifest.file)) {
      readTemplateOnce(resolveInside(assembly, displayPath(assetManifest.file), templateFile), walk);
    }
  } else if (type === NESTED_ASSEMBLY_ARTIFACT) {
    const directoryName = properties.directoryName;
    if (typeof directoryName !== 'string') {
      throw fail(`has directoryName ${shortText(directoryName)}, not a directory name`);
    }
    readAssembly(resolveInside(assembly, assembly.shownManifest, directoryName).file, depth + 1, walk);
  }
}

/** A file an assembly points at, and its real path (symbolic links followed). */
interface AssemblyFile {
  readonly file: string;
  readonly realPath: string;
}

function realPathOf(file: string, shown: string): string {
  try {
    return fs.realpathSync(file);
  } catch (error) {
    throw new CliInputError(`${shown}: ${fileErrorReason(error)}`);
  }
}

function isInside(directory: string, file: string): boolean {
  const relative = path.relative(directory, file);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/**
 * Where a manifest's relative path leads, refused when it leaves the assembly: `../x`, an absolute path, or a
 * symbolic link to a file outside. CDK writes every template inside the assembly it belongs to.
 */
function resolveInside(assembly: Assembly, shownOwner: string, relativePath: string): AssemblyFile {
  const outside = (why: string): CliInputError =>
    new CliInputError(
      `${shownOwner}: ${shortText(relativePath)} ${why}; a cloud assembly may only point inside its own directory`,
    );
  if (path.isAbsolute(relativePath)) throw outside('is an absolute path');
  const file = path.resolve(assembly.directory, relativePath);
  if (!isInside(path.resolve(assembly.directory), file)) throw outside('is outside the cloud assembly');
  const realPath = realPathOf(file, displayPath(file));
  if (!isInside(assembly.realDirectory, realPath)) {
    throw outside(`is a symbolic link to ${realPath}, outside the cloud assembly`);
  }
  return { file, realPath };
}

/** A stack's own template is also a file asset of its stack: each file is read once. */
function readTemplateOnce(template: AssemblyFile, walk: AssemblyWalk): void {
  if (walk.seenTemplates.has(template.realPath)) return;
  walk.seenTemplates.add(template.realPath);
  walk.templates.push(readTemplate(template.file, { hint: ASSEMBLY_FILE_HINT, resourcesMayBeAbsent: true }));
}

/**
 * Templates deployed by a stack rather than by the CDK CLI: nested stacks (`*.nested.template.json`), StackSet
 * members (`*.stackset.template.json`, cdk-stacksets) and Service Catalog products. CDK writes them as file
 * assets listed in the stack's asset manifest (`*.assets.json`), not as stack artifacts of the assembly.
 * Other assets (Lambda code, which `cdk synth --no-staging` leaves outside the assembly) are not read.
 */
function deployedTemplateFiles(assetManifestFile: string): string[] {
  const shown = displayPath(assetManifestFile);
  const files = readJsonObject(assetManifestFile, 'CDK asset manifest').files ?? {};
  if (!isFields(files)) throw new CliInputError(`${shown}: files is ${shortText(files)}, not an object`);
  const templateFiles: string[] = [];
  for (const asset of Object.values(files)) {
    const sourcePath = isFields(asset) && isFields(asset.source) ? asset.source.path : undefined;
    if (typeof sourcePath === 'string' && sourcePath.endsWith('.template.json'))
      templateFiles.push(sourcePath);
  }
  return templateFiles;
}
