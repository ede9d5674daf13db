/**
 * `registry-guard check <path>... [--format text|json|sarif|junit] [--output FILE] [--fail-on error|warning|never]`
 *
 * Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or input error.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { REGISTRY_GUARD_RULES } from '../../rules/all-rules';
import { appFactsOf, evaluateTemplate, findingOf } from '../../rules/check-template';
import { TemplateIndex } from '../../rules/template-model';
import { CliInputError } from './input-error';
import { loadTemplates } from './load-templates';
import {
  CheckReport,
  failingFindings,
  FailOn,
  formatJson,
  formatJunit,
  formatSarif,
  formatText,
  ReportedFinding,
  TemplateReport,
} from './report';

/** Exit codes of the CLI. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

const FORMATS = ['text', 'json', 'sarif', 'junit'] as const;
type Format = (typeof FORMATS)[number];
const FAIL_ON: readonly FailOn[] = ['error', 'warning', 'never'];

export const USAGE = `Usage: registry-guard check <path>... [options]

Checks CloudFormation templates (JSON or YAML) and CDK cloud assemblies (cdk.out) with the
RegistryGuard rules: the same rules, ids and levels as the RegistryGuardChecks cdk-nag pack.

Options:
  --format text|json|sarif|junit   report format (default: text)
  --output FILE                    write the report to FILE instead of standard output
  --fail-on error|warning|never    lowest level that fails the run (default: error)
  -h, --help                       show this help
  -v, --version                    show the version

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or input error.

To put back a bucket the drift guard closed: registry-guard restore --help
`;

/** Where the CLI writes. Tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Standard output is a terminal: colour the text report. */
  readonly isTty: boolean;
  readonly version: string;
  /** The clock acknowledgements' expiry dates are judged by. @default the system clock */
  readonly clock?: () => Date;
}

/**
 * Runs the CLI, `restore` included, and returns its exit code. Never throws. `restore` calls AWS, so this is
 * asynchronous; every other command runs exactly as {@link runCli}.
 */
export async function runCliAsync(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] !== 'restore') return runCli(argv, io);
  // Loaded only for restore, so `check` never pays for loading the AWS SDK.
  const { runRestore } = await import('./restore');
  return runRestore(argv.slice(1), io);
}

/** Runs the CLI and returns its exit code. Never throws. */
export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    return run(argv, io);
  } catch (error) {
    const message = error instanceof CliInputError ? error.message : `unexpected failure: ${describe(error)}`;
    io.stderr(`registry-guard: ${message}\n`);
    return EXIT_USAGE;
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

interface CheckOptions {
  readonly paths: string[];
  readonly format: Format;
  readonly output?: string;
  readonly failOn: FailOn;
}

function run(argv: readonly string[], io: CliIo): number {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (command === '-v' || command === '--version') {
    io.stdout(`${io.version}\n`);
    return EXIT_OK;
  }
  if (command === undefined)
    throw new CliInputError(`missing command; try 'registry-guard check cdk.out' or --help`);
  if (command === 'restore') throw new CliInputError(`'restore' calls AWS: run it through runCliAsync`);
  if (command !== 'check')
    throw new CliInputError(
      `unknown command '${command}'; the commands are 'check' and 'restore' (see --help)`,
    );
  const options = parseCheckOptions(rest);
  if (options === 'help') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const report = check({ ...options, now: io.clock?.() }, io.version);
  const text = render(report, options.format, io.isTty && options.output === undefined);
  if (options.output === undefined) {
    io.stdout(text);
  } else {
    try {
      fs.writeFileSync(options.output, text);
    } catch (error) {
      throw new CliInputError(
        `${options.output}: cannot write the report (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  return failingFindings(report).length > 0 ? EXIT_FINDINGS : EXIT_OK;
}

function parseCheckOptions(args: readonly string[]): CheckOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        output: { type: 'string', short: 'o' },
        'fail-on': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // Node's message goes on to explain '--' positionals: the first sentence is the one that helps.
    throw new CliInputError(`${describe(error).split('. ')[0]} (see --help)`);
  }
  if (parsed.values.help) return 'help';
  const format = parsed.values.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new CliInputError(`unknown format '${format}'; use one of ${FORMATS.join(', ')}`);
  }
  const failOn = parsed.values['fail-on'] ?? 'error';
  if (!(FAIL_ON as readonly string[]).includes(failOn)) {
    throw new CliInputError(`unknown --fail-on level '${failOn}'; use one of ${FAIL_ON.join(', ')}`);
  }
  if (parsed.positionals.length === 0)
    throw new CliInputError('check needs at least one template file or cdk.out directory');
  return {
    paths: parsed.positionals,
    format: format as Format,
    output: parsed.values.output,
    failOn: failOn as FailOn,
  };
}

/** Loads and checks every template the paths name. */
export function check(
  options: Pick<CheckOptions, 'paths' | 'failOn'> & { readonly now?: Date },
  toolVersion: string,
): CheckReport {
  const templates: TemplateReport[] = [];
  const findings: ReportedFinding[] = [];
  const loadedTemplates = loadTemplates(options.paths);
  const indexes = loadedTemplates.map((loaded) => TemplateIndex.fromTemplate(loaded.template));
  // The templates of one run are one app: a guard deployed by any of them counts for all.
  const app = appFactsOf(indexes);
  loadedTemplates.forEach((loaded, position) => {
    const evaluations = evaluateTemplate(indexes[position], { app, now: options.now });
    templates.push({ path: loaded.path, text: loaded.text, evaluations });
    for (const evaluation of evaluations) {
      const finding = findingOf(evaluation);
      if (finding !== undefined) {
        findings.push({
          ruleId: finding.ruleId,
          level: finding.level,
          resource: finding.resource,
          path: loaded.path,
          message: finding.message,
        });
      }
    }
  });
  return { templates, findings, rules: REGISTRY_GUARD_RULES, failOn: options.failOn, toolVersion };
}

function render(report: CheckReport, format: Format, colour: boolean): string {
  switch (format) {
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report);
    case 'junit':
      return formatJunit(report);
    case 'text':
      return formatText(report, { colour });
  }
}
