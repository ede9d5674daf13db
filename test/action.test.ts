/**
 * The GitHub Action (action.yml, issue 17): its run steps run here as the runner would run them (bash with
 * `-eo pipefail`, inputs substituted for `${{ inputs.x }}`, step outputs through $GITHUB_OUTPUT), against fixture
 * templates. `npx` is a stand-in that records how it was called and runs this checkout's CLI; the steps that
 * `uses:` another action (setup-node, upload-sarif) are not run, only checked for what they would be given.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { tempDirectory } from './support/cli';

const REPO = path.resolve(__dirname, '..');
const FIXTURES = path.join(REPO, 'test/fixtures/templates');

interface ActionStep {
  readonly id?: string;
  readonly name?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly with?: Record<string, string>;
  readonly shell?: string;
  readonly env?: Record<string, string>;
  readonly run?: string;
}

interface ActionDefinition {
  readonly inputs: Record<string, { default?: string; required?: boolean }>;
  readonly outputs: Record<string, { value: string }>;
  readonly runs: { using: string; steps: ActionStep[] };
}

const ACTION = parse(fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8')) as ActionDefinition;

/** What a local run of the action did. */
interface ActionRun {
  /** The exit code of the first step that failed, or 0. */
  readonly exitCode: number;
  /** The run steps' standard error, all together. */
  readonly stderr: string;
  readonly stdout: string;
  /** The `uses:` steps that would run, with their `with:` inputs substituted. */
  readonly used: { uses: string; with: Record<string, string> }[];
  /** Each `npx` call's arguments. */
  readonly npxCalls: string[];
  /** The action's outputs. */
  readonly outputs: Record<string, string>;
  readonly workspace: string;
}

/** The stand-in for npx: records its arguments, then runs this checkout's CLI with what follows the package. */
const NPX_SHIM = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$RG_TEST_NPX_LOG"
while [ $# -gt 0 ]; do
  case "$1" in
    --yes|--no-install) shift ;;
    registry-guard|registry-guard@*) shift; break ;;
    *) echo "npx stand-in: unexpected argument $1" >&2; exit 97 ;;
  esac
done
exec "${REPO}/node_modules/.bin/tsx" "${REPO}/bin/registry-guard.ts" "$@"
`;

/** Replaces every `${{ ... }}` with its value: only inputs and step outputs, anything else fails the test. */
function substitute(
  text: string,
  inputs: Record<string, string>,
  stepOutputs: Record<string, Record<string, string>>,
): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_match, expression: string) => evaluate(expression));

  function evaluate(expression: string): string {
    const input = /^inputs\.([A-Za-z0-9_-]+)$/.exec(expression);
    if (input !== null) {
      if (!(input[1] in inputs)) throw new Error(`action.yml reads an undeclared input: ${input[1]}`);
      return inputs[input[1]];
    }
    const output = /^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$/.exec(expression);
    if (output !== null) return stepOutputs[output[1]]?.[output[2]] ?? '';
    throw new Error(`the local runner cannot evaluate \${{ ${expression} }}`);
  }
}

/** An `if:` of the one form the action uses: `inputs.name == 'literal'`. */
function condition(expression: string, inputs: Record<string, string>): boolean {
  const comparison = /^inputs\.([A-Za-z0-9_-]+) == '([^']*)'$/.exec(expression.trim());
  if (comparison === null) throw new Error(`the local runner cannot evaluate if: ${expression}`);
  return inputs[comparison[1]] === comparison[2];
}

/** Reads `name=value` lines of a $GITHUB_OUTPUT file. */
function readOutputs(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/**
 * Runs the action's steps in a new workspace holding copies of `files` (name → fixture), with `with` as the
 * workflow's inputs and the action's defaults for the rest.
 */
function runAction(files: Record<string, string>, withInputs: Record<string, string>): ActionRun {
  const workspace = tempDirectory('action');
  for (const [name, fixture] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, fixture), path.join(workspace, name));
  }
  const bin = path.join(workspace, '.bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'npx'), NPX_SHIM, { mode: 0o755 });
  const npxLog = path.join(workspace, '.npx-calls');
  const inputs = Object.fromEntries(
    Object.entries(ACTION.inputs).map(([name, input]) => [name, withInputs[name] ?? input.default ?? '']),
  );
  const stepOutputs: Record<string, Record<string, string>> = {};
  const used: ActionRun['used'] = [];
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  ACTION.runs.steps.forEach((step, position) => {
    if (exitCode !== 0) return; // A failed step ends a composite action.
    if (step.if !== undefined && !condition(step.if, inputs)) return;
    if (step.uses !== undefined) {
      const stepWith = Object.fromEntries(
        Object.entries(step.with ?? {}).map(([key, value]) => [
          key,
          substitute(String(value), inputs, stepOutputs),
        ]),
      );
      used.push({ uses: step.uses, with: stepWith });
      return;
    }
    expect(step.shell).toBe('bash');
    const outputFile = path.join(workspace, `.output-${position}`);
    const script = path.join(workspace, `.step-${position}.sh`);
    fs.writeFileSync(script, substitute(step.run ?? '', inputs, stepOutputs));
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([key, value]) => [
        key,
        substitute(String(value), inputs, stepOutputs),
      ]),
    );
    // How the runner runs a `shell: bash` step.
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: workspace,
      encoding: 'utf8',
      env: {
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? workspace,
        GITHUB_OUTPUT: outputFile,
        RG_TEST_NPX_LOG: npxLog,
        ...env,
      },
    });
    stdout += result.stdout;
    stderr += result.stderr;
    exitCode = result.status ?? 1;
    if (step.id !== undefined) stepOutputs[step.id] = readOutputs(outputFile);
  });
  return {
    exitCode,
    stdout,
    stderr,
    used,
    npxCalls: fs.existsSync(npxLog) ? fs.readFileSync(npxLog, 'utf8').trim().split('\n') : [],
    outputs: Object.fromEntries(
      Object.entries(ACTION.outputs).map(([name, output]) => [
        name,
        substitute(output.value, inputs, stepOutputs),
      ]),
    ),
    workspace,
  };
}

interface SarifLog {
  version: string;
  runs: { results: { ruleId: string; suppressions?: unknown[] }[] }[];
}

function sarifIn(run: ActionRun, file = 'registry-guard.sarif'): SarifLog {
  return JSON.parse(fs.readFileSync(path.join(run.workspace, file), 'utf8')) as SarifLog;
}

const runs: ActionRun[] = [];
function tracked(run: ActionRun): ActionRun {
  runs.push(run);
  return run;
}
afterAll(() => {
  for (const run of runs) fs.rmSync(run.workspace, { recursive: true, force: true });
});

describe('action.yml', () => {
  test('is a composite action with the inputs the README documents', () => {
    expect(ACTION.runs.using).toBe('composite');
    expect(Object.keys(ACTION.inputs).sort()).toEqual(
      ['fail-on', 'node-version', 'paths', 'sarif-file', 'upload-sarif', 'version'].sort(),
    );
    expect(ACTION.runs.steps.map((step) => step.uses ?? 'run')).toEqual([
      'actions/setup-node@v6',
      'run',
      'github/codeql-action/upload-sarif@v4',
      'run',
    ]);
    // Inputs reach the scripts through env only: nothing a workflow passes is spliced into a script.
    for (const step of ACTION.runs.steps) expect(step.run ?? '').not.toContain('${{');
  });

  test('a template with findings: the report is written and uploaded, then the step fails with 1', () => {
    const run = tracked(
      runAction({ 'leaky.template.json': 'leaky.template.json' }, { paths: 'leaky.template.json' }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('::error::registry-guard found findings');
    expect(run.outputs).toEqual({ 'sarif-file': 'registry-guard.sarif', 'exit-code': '1' });
    expect(run.npxCalls).toEqual([
      '--no-install registry-guard check leaky.template.json --format sarif --output registry-guard.sarif --fail-on error',
    ]);
    const sarif = sarifIn(run);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.map((result) => result.ruleId)).toContain('RegistryGuard-S3PublicPolicy');
    expect(run.used).toEqual([
      { uses: 'actions/setup-node@v6', with: { 'node-version': '22' } },
      {
        uses: 'github/codeql-action/upload-sarif@v4',
        with: { sarif_file: 'registry-guard.sarif', category: 'registry-guard' },
      },
    ]);
  });

  test('fail-on never and another sarif-file: the report is written there and uploaded, the action passes', () => {
    const run = tracked(
      runAction(
        { 'leaky.template.json': 'leaky.template.json' },
        { paths: 'leaky.template.json', 'fail-on': 'never', 'sarif-file': 'rg.sarif' },
      ),
    );
    expect(run.exitCode).toBe(0);
    expect(sarifIn(run, 'rg.sarif').runs[0].results.length).toBeGreaterThan(0);
    expect(run.used[1].with.sarif_file).toBe('rg.sarif');
  });

  test('a sarif-file in a directory that does not exist: exit 2 with the one-line error, nothing uploaded', () => {
    const run = tracked(
      runAction(
        { 'leaky.template.json': 'leaky.template.json' },
        { paths: 'leaky.template.json', 'sarif-file': 'out/rg.sarif' },
      ),
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/out\/rg\.sarif: cannot write the report \(ENOENT\)/);
    expect(run.used.map((step) => step.uses)).toEqual(['actions/setup-node@v6']);
  });

  test('a template that passes: exit 0, a report with no failing result', () => {
    const run = tracked(
      runAction(
        { 'templates/private.template.yaml': 'private-by-intrinsics.template.yaml' },
        { paths: 'templates/private.template.yaml', 'fail-on': 'warning' },
      ),
    );
    expect(run.exitCode).toBe(0);
    expect(run.outputs['exit-code']).toBe('0');
    expect(sarifIn(run).runs[0].results.filter((result) => result.suppressions === undefined)).toEqual([]);
  });

  test('several paths, on lines of their own and as a pattern', () => {
    const run = tracked(
      runAction(
        {
          'stacks/a.template.json': 'leaky.template.json',
          'stacks/b.template.json': 'leaky.template.json',
          'other/c.template.yaml': 'leaky.template.yaml',
        },
        { paths: 'stacks/*.template.json\nother/c.template.yaml\n', 'fail-on': 'never' },
      ),
    );
    expect(run.exitCode).toBe(0);
    expect(run.npxCalls[0]).toMatch(
      /^--no-install registry-guard check stacks\/a\.template\.json stacks\/b\.template\.json other\/c\.template\.yaml /,
    );
  });

  test('version: that version from npm, with --yes', () => {
    const run = tracked(
      runAction(
        { 'leaky.template.json': 'leaky.template.json' },
        { paths: 'leaky.template.json', version: '0.1.0' },
      ),
    );
    expect(run.npxCalls[0]).toMatch(/^--yes registry-guard@0\.1\.0 check leaky\.template\.json /);
  });

  test('upload-sarif false: the report is written, not uploaded', () => {
    const run = tracked(
      runAction(
        { 'leaky.template.json': 'leaky.template.json' },
        { paths: 'leaky.template.json', 'upload-sarif': 'false' },
      ),
    );
    expect(run.exitCode).toBe(1);
    expect(fs.existsSync(path.join(run.workspace, 'registry-guard.sarif'))).toBe(true);
    expect(run.used.map((step) => step.uses)).toEqual(['actions/setup-node@v6']);
  });

  test('a missing path: exit 2 with the CLI one-line error, nothing to upload', () => {
    const run = tracked(runAction({}, { paths: 'cdk.out' }));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^registry-guard: cdk\.out: /m);
    expect(fs.existsSync(path.join(run.workspace, 'registry-guard.sarif'))).toBe(false);
    expect(run.used.map((step) => step.uses)).toEqual(['actions/setup-node@v6']);
  });

  test('inputs are data: shell syntax in paths or sarif-file runs nothing', () => {
    const run = tracked(
      runAction(
        { 'leaky.template.json': 'leaky.template.json' },
        {
          paths: 'leaky.template.json;touch${IFS}pwned $(touch pwned2)',
          'sarif-file': '`touch pwned3`.sarif',
        },
      ),
    );
    expect(run.exitCode).toBe(2);
    for (const file of ['pwned', 'pwned2', 'pwned3']) {
      expect(fs.existsSync(path.join(run.workspace, file))).toBe(false);
    }
  });
});
