import { runCli } from '../../lib/cli/run-cli';

/** What `registry-guard check <cdk.out> --format json` printed, and its exit code. */
export interface CdkOutCheck {
  readonly code: number;
  readonly report: { summary: { templates: number }; findings: unknown[] };
}

/**
 * Runs the real CLI on a synthesized cloud assembly, failing on warnings as CI does. Anything written to
 * stderr fails the test: a clean assembly has nothing to complain about.
 */
export function checkCdkOut(outdir: string): CdkOutCheck {
  let stdout = '';
  const code = runCli(['check', outdir, '--format', 'json', '--fail-on', 'warning'], {
    stdout: (text) => (stdout += text),
    stderr: (text) => {
      throw new Error(text);
    },
    isTty: false,
    version: 'test',
  });
  return { code, report: JSON.parse(stdout) as CdkOutCheck['report'] };
}
