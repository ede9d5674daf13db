/**
 * What one run of `registry-guard check` found, and the four ways to print it (SARIF in ./sarif.ts).
 */
import { findingOf, RuleEvaluation } from '../../rules/check-template';
import { RegistryGuardRule, RuleLevel, ruleId } from '../../rules/rule';
import { escapeControlCharacters } from './input-error';

export { formatSarif } from './sarif';
export type { SarifOptions } from './sarif';

/** Which findings make the run fail. */
export type FailOn = 'error' | 'warning' | 'never';

/** A finding as the CLI reports it: the engine's finding plus the template it came from. */
export interface ReportedFinding {
  readonly ruleId: string;
  readonly level: RuleLevel;
  readonly resource: string;
  readonly path: string;
  readonly message: string;
}

/** The evaluations of one template. */
export interface TemplateReport {
  readonly path: string;
  readonly text: string;
  readonly evaluations: readonly RuleEvaluation[];
}

/** The whole run. */
export interface CheckReport {
  readonly templates: readonly TemplateReport[];
  readonly findings: readonly ReportedFinding[];
  readonly rules: readonly RegistryGuardRule[];
  readonly failOn: FailOn;
  readonly toolVersion: string;
}

/** The findings at or above the `--fail-on` threshold. */
export function failingFindings(report: Pick<CheckReport, 'findings' | 'failOn'>): ReportedFinding[] {
  if (report.failOn === 'never') return [];
  return report.findings.filter((finding) => report.failOn === 'warning' || finding.level === 'error');
}

function summaryOf(report: CheckReport): Record<string, number | string | boolean> {
  const errors = report.findings.filter((finding) => finding.level === 'error').length;
  return {
    templates: report.templates.length,
    resourcesChecked: report.templates.reduce(
      (count, template) =>
        count + new Set(template.evaluations.map((evaluation) => evaluation.resource.logicalId)).size,
      0,
    ),
    findings: report.findings.length,
    errors,
    warnings: report.findings.length - errors,
    failOn: report.failOn,
    failed: failingFindings(report).length > 0,
  };
}

/** `--format json`: one object, `{ findings, summary }`. */
export function formatJson(report: CheckReport): string {
  return `${JSON.stringify({ findings: report.findings, summary: summaryOf(report) }, null, 2)}\n`;
}

/** Options of the text format. */
export interface TextOptions {
  /** Colour the levels: only when printing to a terminal. */
  readonly colour: boolean;
}

/** `--format text`: for people. Grouped by template, one line per finding, a summary last. */
export function formatText(report: CheckReport, options: TextOptions): string {
  const paint = (code: number, text: string): string =>
    options.colour ? `\u001b[${code}m${text}\u001b[0m` : text;
  // Grouped once, so the report stays linear in templates plus findings.
  const findingsByPath = new Map<string, ReportedFinding[]>();
  for (const finding of report.findings) {
    const findings = findingsByPath.get(finding.path) ?? [];
    findings.push(finding);
    findingsByPath.set(finding.path, findings);
  }
  // Paths, logical ids and messages come from the templates: a control character in them must not
  // break a line or drive the terminal.
  const printable = escapeControlCharacters;
  const lines: string[] = [];
  for (const template of report.templates) {
    const findings = findingsByPath.get(template.path) ?? [];
    if (findings.length === 0) continue;
    lines.push(paint(1, printable(template.path)));
    for (const finding of findings) {
      const level = finding.level === 'error' ? paint(31, 'error  ') : paint(33, 'warning');
      lines.push(
        `  ${level} ${finding.ruleId} ${printable(finding.resource)}: ${printable(finding.message)}`,
      );
    }
    lines.push('');
  }
  const summary = summaryOf(report);
  const verdict = summary.failed ? paint(31, 'FAILED') : paint(32, 'OK');
  lines.push(
    `${verdict}: ${summary.errors} error(s), ${summary.warnings} warning(s) in ${summary.templates} template(s), ` +
      `${summary.resourcesChecked} resource(s) checked (fail on: ${report.failOn}).`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * What XML 1.0 cannot carry even escaped (C0 controls but tab, newline and carriage return; lone
 * surrogates; U+FFFE and U+FFFF), and what it must escape. A template string can hold any of them.
 */
const XML_SPECIAL_OR_FORBIDDEN = /[&<>"\t\n\r]|[^\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  // As references, so an attribute keeps them rather than reading them as spaces.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Text for an XML attribute or element: escaped, and each character XML forbids replaced by U+FFFD. */
function xml(text: string): string {
  return text.replace(XML_SPECIAL_OR_FORBIDDEN, (character) => XML_ESCAPES[character] ?? '\uFFFD');
}

/**
 * `--format junit`: one test case per resource and rule; findings fail, acknowledgements in force are skipped
 * (one that has expired, or cannot be honoured, fails like any finding and says why).
 */
export function formatJunit(report: CheckReport): string {
  const failing = new Set(
    failingFindings(report).map(
      (finding) => `${finding.path}\u0000${finding.resource}\u0000${finding.ruleId}`,
    ),
  );
  const suites: string[] = [];
  let totalTests = 0;
  let totalFailures = 0;
  for (const template of report.templates) {
    const cases: string[] = [];
    let failures = 0;
    let skipped = 0;
    for (const evaluation of template.evaluations) {
      const id = ruleId(evaluation.rule);
      const name = `${evaluation.resource.logicalId} ${id}`;
      const open = `    <testcase classname="${xml(template.path)}" name="${xml(name)}"`;
      if (evaluation.acknowledged) {
        skipped += 1;
        cases.push(`${open}>\n      <skipped message="acknowledged in template metadata"/>\n    </testcase>`);
      } else if (evaluation.problems.length > 0) {
        const message = findingOf(evaluation)?.message ?? evaluation.rule.info;
        const isFailure = failing.has(`${template.path}\u0000${evaluation.resource.logicalId}\u0000${id}`);
        if (isFailure) failures += 1;
        const body = isFailure
          ? `<failure type="${evaluation.rule.level}" message="${xml(message)}"/>`
          : `<system-out>${xml(`${evaluation.rule.level}: ${message}`)}</system-out>`;
        cases.push(`${open}>\n      ${body}\n    </testcase>`);
      } else {
        cases.push(`${open}/>`);
      }
    }
    totalTests += template.evaluations.length;
    totalFailures += failures;
    suites.push(
      `  <testsuite name="${xml(template.path)}" tests="${template.evaluations.length}" failures="${failures}" ` +
        `errors="0" skipped="${skipped}">\n${cases.join('\n')}${cases.length > 0 ? '\n' : ''}  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="registry-guard" tests="${totalTests}" failures="${totalFailures}">\n` +
    `${suites.join('\n')}${suites.length > 0 ? '\n' : ''}</testsuites>\n`
  );
}
