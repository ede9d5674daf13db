/**
 * `npx tsx bench/precision.ts <dir> [--json out.json]`: runs the CLI's checking path over every template
 * file below a directory (templates written by others) and reports what a precision review needs:
 * files refused and why (with cfn-lint's opinion of each), crashes, the slowest file, findings per rule
 * and level, and with --json every error-level finding of the public rules, to be judged by hand.
 *
 * Loading and checking are synchronous: a file cannot hang the run, its time is only reported.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CliInputError } from '../lib/cli/input-error';
import { loadTemplateFile } from '../lib/cli/load-templates';
import { evaluateTemplate, Finding, findingOf } from '../rules/check-template';
import { TemplateIndex } from '../rules/template-model';

const TEMPLATE_EXTENSIONS = ['.yaml', '.yml', '.json', '.template'];
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules']);
const CFN_LINT_TIMEOUT_MS = 60_000;

interface FileOutcome {
  readonly file: string;
  readonly milliseconds: number;
  readonly findings: readonly Finding[];
  /** The loader's one-line reason for refusing the file. */
  readonly refusal?: string;
  /** A non-CliInputError exception: a bug. */
  readonly crash?: string;
  /** YAML warnings the parser would have printed while reading the file. */
  readonly warnings: readonly string[];
}

/** Every template-looking file below a directory, in a stable order. */
function templateFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const entryPath = path.join(directory, entry.name);
      if (entry.isDirectory()) return SKIPPED_DIRECTORIES.has(entry.name) ? [] : templateFiles(entryPath);
      return TEMPLATE_EXTENSIONS.some((extension) => entry.name.endsWith(extension)) ? [entryPath] : [];
    });
}

/** Runs `fn`, collecting the warnings it emits through process.emitWarning instead of printing them. */
function collectingWarnings<T>(fn: () => T): { result: T; warnings: string[] } {
  const warnings: string[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error) => {
    warnings.push((warning instanceof Error ? warning.message : warning).split('\n')[0]);
  }) as typeof process.emitWarning;
  try {
    return { result: fn(), warnings };
  } finally {
    process.emitWarning = original;
  }
}

/** Loads and checks one file the way `registry-guard check <file>` does. */
function checkFile(file: string): FileOutcome {
  const start = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e6;
  const warnings: string[] = [];
  try {
    const loading = collectingWarnings(() => loadTemplateFile(file));
    warnings.push(...loading.warnings);
    const evaluations = evaluateTemplate(TemplateIndex.fromTemplate(loading.result.template));
    const findings = evaluations.map(findingOf).filter((finding) => finding !== undefined);
    return { file, milliseconds: elapsed(), findings, warnings };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    const outcome = { file, milliseconds: elapsed(), findings: [], warnings };
    return error instanceof CliInputError ? { ...outcome, refusal: message } : { ...outcome, crash: message };
  }
}

/** cfn-lint's view of a refused file: does it find errors (E-rules, or a fatal parse failure)? */
function cfnLintVerdict(file: string): string {
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', file], {
    encoding: 'utf8',
    timeout: CFN_LINT_TIMEOUT_MS,
  });
  if (lint.error !== undefined) return `cfn-lint did not run (${lint.error.message})`;
  const firstError = lint.stdout.split('\n').find((line) => /:E\d{4}:/.test(line));
  // cfn-lint's exit code is a bit set: 1 fatal, 2 errors, 4 warnings, 8 informational.
  if (((lint.status ?? 1) & 3) === 0) return 'cfn-lint accepts it (valid template)';
  return `cfn-lint rejects it too: ${firstError ?? lint.stderr.split('\n')[0]}`;
}

const RETIMED_FILES = 5;

/**
 * The slowest file once the JIT is warm: the first pass charges the first YAML files for compiling the
 * parser, so the slowest few of it are checked again and the slowest of those second times is reported.
 */
function slowestWarm(outcomes: readonly FileOutcome[]): FileOutcome | undefined {
  return [...outcomes]
    .sort((a, b) => b.milliseconds - a.milliseconds)
    .slice(0, RETIMED_FILES)
    .map((outcome) => checkFile(outcome.file))
    .sort((a, b) => b.milliseconds - a.milliseconds)[0];
}

function isPublicRule(ruleId: string): boolean {
  return ruleId.includes('Public');
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

function main(argv: readonly string[]): void {
  const jsonAt = argv.indexOf('--json');
  const jsonFile = jsonAt === -1 ? undefined : argv[jsonAt + 1];
  const directory = argv.find((arg, position) => !arg.startsWith('--') && position !== jsonAt + 1);
  if (directory === undefined || (jsonAt !== -1 && jsonFile === undefined)) {
    console.error('Usage: npx tsx bench/precision.ts <dir> [--json out.json]');
    process.exit(2);
  }
  const outcomes = templateFiles(directory).map(checkFile);
  const read = outcomes.filter((outcome) => outcome.refusal === undefined && outcome.crash === undefined);
  const refused = outcomes.filter((outcome) => outcome.refusal !== undefined);
  const crashed = outcomes.filter((outcome) => outcome.crash !== undefined);
  const slowest = slowestWarm(outcomes);
  const findings = outcomes.flatMap((outcome) =>
    outcome.findings.map((finding) => ({ ...finding, outcome })),
  );

  console.log(`files found: ${outcomes.length}`);
  console.log(`templates read: ${read.length}`);
  console.log(`files refused: ${refused.length}`);
  for (const outcome of refused) {
    console.log(`  ${outcome.refusal}\n    ${cfnLintVerdict(outcome.file)}`);
  }
  console.log(`crashes (bugs): ${crashed.length}`);
  for (const outcome of crashed) console.log(`  ${outcome.file}: ${outcome.crash}`);
  const warned = outcomes.filter((outcome) => outcome.warnings.length > 0);
  console.log(`files whose reading printed YAML warnings: ${warned.length}`);
  for (const outcome of warned) console.log(`  ${outcome.file}: ${outcome.warnings[0]}`);
  if (slowest !== undefined)
    console.log(`slowest file (warm): ${slowest.file} (${slowest.milliseconds.toFixed(1)} ms)`);
  console.log(`findings: ${findings.length}`);
  for (const [ruleAndLevel, count] of countBy(findings, (finding) => `${finding.ruleId} ${finding.level}`)) {
    console.log(`  ${ruleAndLevel}: ${count}`);
  }

  if (jsonFile !== undefined) {
    const publicErrors = findings
      .filter((finding) => finding.level === 'error' && isPublicRule(finding.ruleId))
      .map(({ ruleId, resource, message, outcome }) => ({ file: outcome.file, ruleId, resource, message }));
    fs.writeFileSync(jsonFile, `${JSON.stringify(publicErrors, null, 2)}\n`);
    console.log(`wrote ${publicErrors.length} error-level public findings to ${jsonFile}`);
  }
}

main(process.argv.slice(2));
