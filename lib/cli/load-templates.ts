/**
 * Finds and parses the templates behind the paths given to `registry-guard check`: a template file
 * (JSON or YAML) or a cloud assembly directory (`cdk.out`), nested assemblies of CDK stages included.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCloudFormationYaml } from './cloudformation-yaml';
import { CliInputError } from './input-error';

/** A template read from disk. */
export interface LoadedTemplate {
  /** The file, as a path relative to the working directory when it is below it. */
  readonly path: string;
  /** The parsed template: an object with a `Resources` object. */
  readonly template: Record<string, unknown>;
  /** The file's text, kept so reports can point at line numbers. */
  readonly text: string;
}

const MAX_ASSEMBLY_DEPTH = 16;

/** Reads every template the paths name, in order. Throws {@link CliInputError} on anything unreadable. */
export function loadTemplates(paths: readonly string[]): LoadedTemplate[] {
  return paths.flatMap((given) => {
    const stat = statOrThrow(given);
    return stat.isDirectory() ? loadAssembly(given, 0) : [loadTemplateFile(given)];
  });
}

function statOrThrow(given: string): fs.Stats {
  try {
    return fs.statSync(given);
  } catch {
    throw new CliInputError(`${given}: no such file or directory`);
  }
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliInputError(`${displayPath(file)}: cannot read the file (${code})`);
  }
}

/** Parses one template file: JSON when it looks like JSON, CloudFormation YAML otherwise. */
export function loadTemplateFile(file: string): LoadedTemplate {
  const text = readText(file);
  const shown = displayPath(file);
  const looksLikeJson = file.endsWith('.json') || /^\s*[{[]/.test(text);
  let parsed: unknown;
  try {
    parsed = looksLikeJson ? JSON.parse(text) : parseCloudFormationYaml(text);
  } catch (error) {
    const reason = error instanceof RangeError ? 'nested too deeply to read' : firstLine(error);
    throw new CliInputError(`${shown}: invalid ${looksLikeJson ? 'JSON' : 'YAML'}: ${reason}`);
  }
  return { path: shown, template: validateTemplate(parsed, shown), text };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

function validateTemplate(parsed: unknown, shown: string): Record<string, unknown> {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliInputError(`${shown}: not a CloudFormation template (expected an object at the top level)`);
  }
  const template = parsed as Record<string, unknown>;
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
      throw new CliInputError(`${shown}: resource ${logicalId} is not an object with a string Type`);
    }
  }
  return template;
}

interface AssemblyArtifact {
  readonly type?: unknown;
  readonly properties?: {
    readonly templateFile?: unknown;
    readonly directoryName?: unknown;
    readonly file?: unknown;
  };
}

/**
 * Templates deployed by a stack rather than by the CDK CLI: nested stacks (`*.nested.template.json`), StackSet
 * members (`*.stackset.template.json`, cdk-stacksets) and Service Catalog products. CDK writes them as file
 * assets listed in the stack's asset manifest (`*.assets.json`), not as stack artifacts of the assembly.
 */
function deployedTemplateFiles(directory: string, assetManifestFile: string): string[] {
  let manifest: { files?: Record<string, { source?: { path?: unknown } }> };
  try {
    manifest = JSON.parse(readText(path.join(directory, assetManifestFile)));
  } catch {
    return [];
  }
  return Object.values(manifest?.files ?? {})
    .map((asset) => asset?.source?.path)
    .filter(
      (assetPath): assetPath is string =>
        typeof assetPath === 'string' && assetPath.endsWith('.template.json'),
    );
}

function loadAssembly(directory: string, depth: number): LoadedTemplate[] {
  if (depth > MAX_ASSEMBLY_DEPTH)
    throw new CliInputError(`${displayPath(directory)}: cloud assemblies nested too deeply`);
  const manifestPath = path.join(directory, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    throw new CliInputError(
      `${displayPath(directory)}: not a cloud assembly (no manifest.json); pass a template file or cdk.out`,
    );
  }
  let manifest: { artifacts?: Record<string, AssemblyArtifact> };
  try {
    manifest = JSON.parse(readText(manifestPath));
  } catch (error) {
    if (error instanceof CliInputError) throw error;
    throw new CliInputError(`${displayPath(manifestPath)}: invalid JSON: ${firstLine(error)}`);
  }
  const templates: LoadedTemplate[] = [];
  // A stack's own template is also a file asset of its manifest: each file is read once.
  const templateFiles = new Set<string>();
  const loadOnce = (file: string): void => {
    const templatePath = path.join(directory, file);
    if (templateFiles.has(templatePath)) return;
    templateFiles.add(templatePath);
    templates.push(loadTemplateFile(templatePath));
  };
  for (const artifact of Object.values(manifest?.artifacts ?? {})) {
    const properties = artifact?.properties;
    if (artifact?.type === 'aws:cloudformation:stack' && typeof properties?.templateFile === 'string') {
      loadOnce(properties.templateFile);
    } else if (artifact?.type === 'cdk:asset-manifest' && typeof properties?.file === 'string') {
      deployedTemplateFiles(directory, properties.file).forEach(loadOnce);
    } else if (artifact?.type === 'cdk:cloud-assembly' && typeof properties?.directoryName === 'string') {
      templates.push(...loadAssembly(path.join(directory, properties.directoryName), depth + 1));
    }
  }
  return templates;
}
