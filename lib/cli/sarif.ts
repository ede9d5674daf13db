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
 * The 1-based line of the first mapping key of each name, found in one pass over the text: logical ids
 * are alphanumeric keys, so a resource's first occurrence as a key is where its definition starts. The
 * pattern is anchored and its parts cannot match the same characters, so each line costs linear time.
 */
function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const key = /^\s*"?([A-Za-z0-9]+)"?\s*:/;
  text.split('\n').forEach((line, position) => {
    const match = key.exec(line);
    if (match !== null && !lines.has(match[1])) lines.set(match[1], position + 1);
  });
  return lines;
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
