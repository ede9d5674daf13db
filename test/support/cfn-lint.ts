import { spawnSync } from 'child_process';

/** One cfn-lint finding, as its JSON formatter writes it. */
export interface CfnLintFinding {
  readonly Level: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Filename: string;
}

/**
 * Runs the real cfn-lint over templates and returns its error-level findings as readable lines.
 * Warnings and informational findings are returned separately and do not fail a test.
 */
export function cfnLint(templatePaths: string[]): { errors: string[]; findings: CfnLintFinding[] } {
  const result = spawnSync('cfn-lint', ['--format', 'json', '--', ...templatePaths], { encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new Error(
      `cfn-lint could not be started (${result.error.message}): install it with 'pip install cfn-lint'`,
    );
  }
  // cfn-lint exits non-zero when it finds anything; its JSON report is the source of truth.
  const findings = JSON.parse(result.stdout || '[]') as CfnLintFinding[];
  const errors = findings
    .filter((finding) => finding.Level === 'Error')
    .map((finding) => `${finding.Filename}: ${finding.Rule.Id} ${finding.Message}`);
  return { errors, findings };
}
