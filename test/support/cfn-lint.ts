import { spawnSync } from 'child_process';

/** One cfn-lint finding, as its `--format json` output writes it. */
interface CfnLintFinding {
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Filename: string | null;
  readonly Location?: { readonly Path?: readonly (string | number)[] | null };
}

/**
 * Runs the real cfn-lint binary over CloudFormation templates and returns its error-level findings as
 * readable lines (`file: E3002 Resources/Bucket/Properties/...: message`), with cfn-lint's raw JSON output.
 * Warnings and informational findings are in `output` but are not errors.
 * Throws when cfn-lint is not installed or does not produce a JSON report, so a missing linter never
 * passes as a clean template.
 *
 * @example
 * expect(cfnLint([path.join(assembly.directory, stack.templateFile)]).errors).toEqual([]);
 */
export function cfnLint(templatePaths: string[]): { errors: string[]; output: string } {
  if (templatePaths.length === 0) {
    // With no template argument cfn-lint reads standard input and would wait forever.
    throw new Error('cfnLint: no template paths given');
  }
  const result = spawnSync('cfn-lint', ['--format', 'json', '--', ...templatePaths], {
    encoding: 'utf8',
    // Explicit: under jest, process.env is the test's copy, and PATH changes must reach the lookup.
    env: process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? "cfnLint: the cfn-lint binary is not on PATH; install it with `python3 -m pip install 'cfn-lint>=1,<2'`"
        : `cfnLint: cfn-lint could not be run: ${result.error.message}`,
    );
  }
  // cfn-lint exits non-zero whenever it reports anything, so the JSON report, not the exit code, decides.
  const output = result.stdout;
  return { errors: errorLines(parseFindings(output, result.status, result.stderr)), output };
}

function parseFindings(output: string, status: number | null, stderr: string): CfnLintFinding[] {
  try {
    const findings: unknown = JSON.parse(output);
    if (Array.isArray(findings)) return findings as CfnLintFinding[];
  } catch {
    // Reported below with what cfn-lint printed.
  }
  throw new Error(
    `cfnLint: cfn-lint (exit status ${status}) did not print a JSON report: ${stderr.trim() || output.trim()}`,
  );
}

function errorLines(findings: CfnLintFinding[]): string[] {
  return findings
    .filter((finding) => finding.Level === 'Error')
    .map((finding) => {
      const where = finding.Location?.Path?.join('/');
      return `${finding.Filename ?? '(no file)'}: ${finding.Rule.Id} ${where ? `${where}: ` : ''}${finding.Message}`;
    });
}
