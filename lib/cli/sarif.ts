/**
 * `--format sarif`: SARIF 2.1.0 for GitHub code scanning. Each result carries a fingerprint that survives
 * edits to the template (code scanning tracks an alert by it), each rule a `security-severity` and a link to
 * its documentation, and an acknowledged finding is a result with an `inSource` suppression, so code scanning
 * shows it as dismissed with its reason rather than not at all.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { acknowledgedFindingOf } from '../../rules/check-template';
import { ruleId } from '../../rules/rule';
import type { CheckReport, ReportedFinding } from './report';
import { ruleHelpUri, securitySeverityOf } from './rule-reference';
import { toolRepositoryUrl } from './tool-version';

/** The `partialFingerprints` key of registry-guard's fingerprint (`primaryLocationLineHash` is GitHub's own). */
export const FINGERPRINT_KEY = 'registryGuardFinding/v1';

/** Options of {@link formatSarif}. */
export interface SarifOptions {
  /**
   * The repository whose docs/rules.md the rules link to (`helpUri`).
   * @default package.json `repository`; no links when it names none
   */
  readonly repositoryUrl?: string;
}

/**
 * The fingerprint of a finding: the rule, the template and the resource's logical id, and nothing that moves
 * when the template is edited (lines, the message's wording, other resources).
 */
export function findingFingerprint(finding: Pick<ReportedFinding, 'ruleId' | 'path' | 'resource'>): string {
  // NUL cannot occur in a rule id or a path, so the three parts cannot run into one another.
  return createHash('sha256')
    .update(`${finding.ruleId}\u0000${templateKey(finding.path)}\u0000${finding.resource}`)
    .digest('hex');
}

/** The template's path as the same text however it was spelled: `./cdk.out/X`, `cdk.out//X`, `cdk.out\X`. */
function templateKey(file: string): string {
  return path.posix.normalize(file.replace(/\\/g, '/'));
}

/** A finding an acknowledgement covers, as SARIF reports it: suppressed, with the acknowledgement's reason. */
interface SuppressedFinding extends ReportedFinding {
  readonly justification: string;
}

/** `--format sarif`. */
export function formatSarif(report: CheckReport, options: SarifOptions = {}): string {
  const repositoryUrl = 'repositoryUrl' in options ? options.repositoryUrl : toolRepositoryUrl();
  const rules = report.rules.map((rule) => ({
    id: ruleId(rule),
    name: rule.name,
    shortDescription: { text: rule.info },
    fullDescription: { text: rule.explanation },
    help: { text: `${rule.info} ${rule.explanation}` },
    ...(repositoryUrl === undefined ? {} : { helpUri: ruleHelpUri(repositoryUrl, rule) }),
    defaultConfiguration: { level: rule.level },
    properties: {
      tags: ['security', 's3'],
      resourceTypes: rule.resourceTypes,
      'security-severity': securitySeverityOf(rule),
    },
  }));
  const ruleIndex = new Map(rules.map((rule, position) => [rule.id, position]));
  const lines = new TemplateLines(report);
  const suppressed: SuppressedFinding[] = report.templates.flatMap((template) =>
    template.evaluations.flatMap((evaluation) => {
      const finding = acknowledgedFindingOf(evaluation);
      return finding === undefined
        ? []
        : [
            {
              ruleId: finding.ruleId,
              level: finding.level,
              resource: finding.resource,
              path: template.path,
              message: finding.message,
              justification: finding.justification,
            },
          ];
    }),
  );
  const result = (finding: ReportedFinding | SuppressedFinding) => {
    const line = lines.of(finding.path, finding.resource);
    return {
      ruleId: finding.ruleId,
      ruleIndex: ruleIndex.get(finding.ruleId),
      level: finding.level,
      message: { text: `${finding.resource}: ${finding.message}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: uriReference(finding.path) },
            ...(line === undefined ? {} : { region: { startLine: line } }),
          },
          logicalLocations: [{ name: finding.resource, kind: 'resource' }],
        },
      ],
      partialFingerprints: { [FINGERPRINT_KEY]: findingFingerprint(finding) },
      ...('justification' in finding
        ? { suppressions: [{ kind: 'inSource', justification: finding.justification }] }
        : {}),
    };
  };
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'registry-guard',
            version: report.toolVersion,
            ...(repositoryUrl === undefined ? {} : { informationUri: repositoryUrl }),
            rules,
          },
        },
        results: [...report.findings.map(result), ...suppressed.map(result)],
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** Where each resource's definition starts in each template, read once per template. */
class TemplateLines {
  private readonly byPath = new Map<string, Map<string, number>>();
  private readonly textByPath: ReadonlyMap<string, string>;

  constructor(report: CheckReport) {
    this.textByPath = new Map(report.templates.map((template) => [template.path, template.text]));
  }

  of(file: string, logicalId: string): number | undefined {
    let lines = this.byPath.get(file);
    if (lines === undefined) {
      lines = keyLines(this.textByPath.get(file) ?? '');
      this.byPath.set(file, lines);
    }
    return lines.get(logicalId);
  }
}

/**
 * The 1-based line where each resource's definition starts: the line of its key one level below the
 * template's `Resources`, never a property of the same name deeper down (a policy's `"Bucket": {...}` before
 * the bucket `Bucket`). One linear pass over the text, JSON or YAML as the loader told them apart.
 */
function keyLines(text: string): Map<string, number> {
  return looksLikeJson(text) ? jsonResourceLines(text) : yamlResourceLines(text);
}

/** The loader's test without the file name: a `.json` file that does not open an object fails to load. */
function looksLikeJson(text: string): boolean {
  const first = /\S/.exec(text);
  return first !== null && (first[0] === '{' || first[0] === '[');
}

/**
 * JSON: a scan that tracks strings and nesting depth. The top-level object is depth 1, `Resources` is a key
 * at depth 1, and a resource is a key at depth 2 while the object that key opened is open.
 */
function jsonResourceLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let line = 1;
  let depth = 0;
  let inResources = false;
  let lastString: { readonly text: string; readonly line: number } | undefined;
  let keyAtTopLevel: string | undefined;
  for (let position = 0; position < text.length; position++) {
    const character = text[position];
    if (character === '\n') {
      line++;
    } else if (character === '"') {
      const end = stringEnd(text, position);
      lastString = { text: jsonStringText(text.slice(position, end + 1)), line };
      position = end;
    } else if (character === ':' && lastString !== undefined) {
      if (depth === 1) keyAtTopLevel = lastString.text;
      if (depth === 2 && inResources && !lines.has(lastString.text))
        lines.set(lastString.text, lastString.line);
      lastString = undefined;
    } else if (character === '{' || character === '[') {
      depth++;
      if (depth === 2) inResources = character === '{' && keyAtTopLevel === 'Resources';
    } else if (character === '}' || character === ']') {
      if (depth === 2) inResources = false;
      depth--;
    }
  }
  return lines;
}

/** The index of the quote that closes the JSON string opening at `start` (the text's end if none does). */
function stringEnd(text: string, start: number): number {
  for (let position = start + 1; position < text.length; position++) {
    if (text[position] === '\\') position++;
    else if (text[position] === '"' || text[position] === '\n') return position;
  }
  return text.length - 1;
}

/** A JSON string literal's text, escapes (`\u0042ucket`) read. */
function jsonStringText(literal: string): string {
  if (!literal.includes('\\')) return literal.slice(1, -1);
  try {
    return String(JSON.parse(literal));
  } catch {
    return literal.slice(1, -1);
  }
}

/** A YAML block mapping key on its own line: indentation, then a plain, double- or single-quoted key. */
const YAML_KEY = /^ *(?:"([^"\\]*)"|'([^']*)'|([^\s"'#:][^\s:]*))[ \t]*:(?:[ \t\r]|$)/;

/**
 * YAML: indentation is nesting. `Resources` is a key at the indentation of the document's first key; a
 * resource is a key at the indentation of the first key below it, until a line comes back out to
 * `Resources`' own indentation. Blank lines, comments and document markers are skipped; the lines of a block
 * scalar are indented deeper than its key, so they are never taken for a resource.
 */
function yamlResourceLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let topIndent: number | undefined;
  let resourceIndent: number | undefined;
  let inResources = false;
  text.split('\n').forEach((rawLine, position) => {
    const content = rawLine.trimStart();
    if (content === '' || content.startsWith('#') || /^(?:---|\.\.\.)(?:\s|$)/.test(rawLine)) return;
    const indent = rawLine.length - content.length;
    topIndent ??= indent;
    if (indent <= topIndent) {
      inResources = indent === topIndent && yamlKeyOf(rawLine) === 'Resources';
      resourceIndent = undefined;
      return;
    }
    if (!inResources) return;
    resourceIndent ??= indent;
    if (indent !== resourceIndent) return;
    const name = yamlKeyOf(rawLine);
    if (name !== undefined && !lines.has(name)) lines.set(name, position + 1);
  });
  return lines;
}

/** The key a YAML line starts with, quotes removed; undefined when the line holds no `key:`. */
function yamlKeyOf(line: string): string | undefined {
  const key = YAML_KEY.exec(line);
  return key === null ? undefined : (key[1] ?? key[2] ?? key[3]);
}

// With the u flag a lone surrogate is one code point outside every range below, a valid pair one inside.
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

/** A path as a SARIF `uri`: a relative URI reference, each segment percent-encoded (spaces, `#`, `%`). */
function uriReference(file: string): string {
  return file
    .replace(LONE_SURROGATE, '\uFFFD')
    .split(/[\\/]/)
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
