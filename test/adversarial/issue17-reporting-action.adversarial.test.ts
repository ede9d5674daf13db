/**
 * Issue 17, adversarial: the GitHub Action (action.yml) given hostile or odd inputs. Its run steps run here as
 * test/action.test.ts runs them (bash with `-eo pipefail`, inputs substituted for `${{ inputs.x }}`, step
 * outputs through $GITHUB_OUTPUT, `npx` a stand-in that runs this checkout's CLI). The action must never pass
 * a workflow it did not check, never run what an input says, and never call a failure to run "findings".
 *
 * A test marked `BREAK:` fails on the code as reviewed: it states what the kit should do.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { tempDirectory } from '../support/cli';

const REPO = path.resolve(__dirname, '..', '..');
const LEAKY = path.join(REPO, 'test/fixtures/templates/leaky.template.json');

interface ActionStep {
  readonly id?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly with?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly run?: string;
}

interface ActionDefinition {
  readonly inputs: Record<string, { default?: string }>;
  readonly outputs: Record<string, { value: string }>;
  readonly runs: { steps: ActionStep[] };
}

const ACTION = parse(fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8')) as ActionDefinition;

/** The stand-in for npx of test/action.test.ts: records its arguments, then runs this checkout's CLI. */
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

/** npx as it behaves when the project never installed registry-guard (`--no-install`): exit 1, no report. */
const NPX_NOT_INSTALLED = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$RG_TEST_NPX_LOG"
echo "npm error npx canceled due to missing packages and no YES option: [\\"registry-guard\\"]" >&2
exit 1
`;

interface ActionRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly used: { uses: string; with: Record<string, string> }[];
  readonly npxCalls: string[];
  readonly workspace: string;
}

function substitute(
  text: string,
  inputs: Record<string, string>,
  stepOutputs: Record<string, Record<string, string>>,
): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_match, expression: string) => {
    const input = /^inputs\.([A-Za-z0-9_-]+)$/.exec(expression);
    if (input !== null) return inputs[input[1]];
    const output = /^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$/.exec(expression);
    if (output !== null) return stepOutputs[output[1]]?.[output[2]] ?? '';
    throw new Error(`the local runner cannot evaluate \${{ ${expression} }}`);
  });
}

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

const workspaces: string[] = [];
afterAll(() => {
  for (const workspace of workspaces) fs.rmSync(workspace, { recursive: true, force: true });
});

/** Runs the action's steps in a new workspace holding copies of the leaky template under `files`. */
function runAction(files: string[], withInputs: Record<string, string>, npx = NPX_SHIM): ActionRun {
  const workspace = tempDirectory('action-adversarial');
  workspaces.push(workspace);
  for (const name of files) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.copyFileSync(LEAKY, path.join(workspace, name));
  }
  const bin = path.join(workspace, '.bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'npx'), npx, { mode: 0o755 });
  const npxLog = path.join(workspace, '.npx-calls');
  const inputs = Object.fromEntries(
    Object.entries(ACTION.inputs).map(([name, input]) => [name, withInputs[name] ?? input.default ?? '']),
  );
  const stepOutputs: Record<string, Record<string, string>> = {};
  const used: ActionRun['used'] = [];
  let [stdout, stderr, exitCode] = ['', '', 0];
  ACTION.runs.steps.forEach((step, position) => {
    if (exitCode !== 0) return;
    if (step.if !== undefined) {
      const comparison = /^inputs\.([A-Za-z0-9_-]+) == '([^']*)'$/.exec(step.if.trim());
      if (comparison === null) throw new Error(`cannot evaluate if: ${step.if}`);
      if (inputs[comparison[1]] !== comparison[2]) return;
    }
    if (step.uses !== undefined) {
      used.push({
        uses: step.uses,
        with: Object.fromEntries(
          Object.entries(step.with ?? {}).map(([key, value]) => [
            key,
            substitute(String(value), inputs, stepOutputs),
          ]),
        ),
      });
      return;
    }
    const outputFile = path.join(workspace, `.output-${position}`);
    const script = path.join(workspace, `.step-${position}.sh`);
    fs.writeFileSync(script, substitute(step.run ?? '', inputs, stepOutputs));
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([key, value]) => [
        key,
        substitute(String(value), inputs, stepOutputs),
      ]),
    );
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
    workspace,
  };
}

function uploads(run: ActionRun): string[] {
  return run.used
    .filter((step) => step.uses.startsWith('github/codeql-action/upload-sarif'))
    .map((step) => step.with.sarif_file);
}

describe('issue 17 adversarial: the action never passes what it did not check', () => {
  test.each(['leaky.template.json --help', 'leaky.template.json -h'])(
    'paths "%s": an option among the paths is a path, not an option',
    (paths) => {
      // Was a break: a path word "--help" or "-h" was read as an option (usage, exit 0, nothing checked).
      const run = runAction(['leaky.template.json'], { paths });
      expect(run.exitCode).not.toBe(0);
      for (const file of uploads(run)) expect(fs.existsSync(path.join(run.workspace, file))).toBe(true);
    },
  );

  test.each(['Error', '', 'none', 'never;true', '$(touch pwned)'])(
    'fail-on "%s": refused with exit 2, nothing uploaded, nothing run',
    (failOn) => {
      const run = runAction(['leaky.template.json'], {
        paths: 'leaky.template.json',
        'fail-on': failOn,
      });
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(/unknown --fail-on level/);
      expect(uploads(run)).toEqual([]);
      expect(fs.existsSync(path.join(run.workspace, 'pwned'))).toBe(false);
    },
  );

  test('version with shell syntax is one npm package spec, and runs nothing', () => {
    const run = runAction(['leaky.template.json'], {
      paths: 'leaky.template.json',
      version: '0.1.0; touch pwned `touch pwned2` $(touch pwned3)',
    });
    expect(run.npxCalls[0]).toMatch(
      /^--yes registry-guard@0\.1\.0; touch pwned `touch pwned2` \$\(touch pwned3\) check leaky\.template\.json /,
    );
    for (const file of ['pwned', 'pwned2', 'pwned3']) {
      expect(fs.existsSync(path.join(run.workspace, file))).toBe(false);
    }
  });

  test('a path with a space: as written it is two missing paths (exit 2); as a pattern it is one, checked', () => {
    const file = 'my stacks/leaky.template.json';
    const literal = runAction([file], { paths: file });
    expect(literal.exitCode).toBe(2);
    expect(uploads(literal)).toEqual([]);

    const pattern = runAction([file], { paths: 'my?stacks/*.template.json' });
    expect(pattern.exitCode).toBe(1);
    expect(pattern.npxCalls).toHaveLength(1);
    const sarif = JSON.parse(
      fs.readFileSync(path.join(pattern.workspace, 'registry-guard.sarif'), 'utf8'),
    ) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
    };
    const uris = new Set(
      sarif.runs[0].results.map((result) => result.locations[0].physicalLocation.artifactLocation.uri),
    );
    expect([...uris]).toEqual(['my%20stacks/leaky.template.json']);
  });

  test('a sarif-file outside the workspace is written where asked and uploaded from there, as given', () => {
    const outside = path.join(tempDirectory('action-outside'), 'rg.sarif');
    workspaces.push(path.dirname(outside));
    const run = runAction(['leaky.template.json'], {
      paths: 'leaky.template.json',
      'sarif-file': outside,
      'fail-on': 'never',
    });
    expect(run.exitCode).toBe(0);
    expect(fs.existsSync(outside)).toBe(true);
    expect(uploads(run)).toEqual([outside]);
  });
});

describe('issue 17 adversarial: a failure to run is not "findings"', () => {
  test('registry-guard not installed (npx exits 1 without a report): the action says so, and uploads nothing', () => {
    // Was a break: npx's own exit 1 (not installed, no report) was taken for "findings, report written".
    const run = runAction(['leaky.template.json'], { paths: 'leaky.template.json' }, NPX_NOT_INSTALLED);
    expect(run.exitCode).not.toBe(0);
    expect(fs.existsSync(path.join(run.workspace, 'registry-guard.sarif'))).toBe(false);
    expect(uploads(run)).toEqual([]);
    expect(run.stdout).not.toMatch(/found findings/);
  });
});
