/**
 * Runs the AWS Control Tower proactive controls, as the cfn-guard rules and binary that
 * `@cdklabs/cdk-validator-cfnguard` ships, on synthesized templates, and reads which control failed on
 * which resource.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A control that failed on one resource of one template: `CT.KMS.PR.3` on `Roll/Key`. */
export interface ControlFailure {
  readonly control: string;
  /** The template file name, without its directory. */
  readonly templateFile: string;
  readonly logicalId: string;
}

const PACKAGE_DIRECTORY = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard'));
const PACKAGE_ROOT = path.join(PACKAGE_DIRECTORY, '..');
/** The control-tower rule files, one per control. */
export const CONTROL_TOWER_RULES = path.join(PACKAGE_ROOT, 'rules', 'control-tower', 'cfn-guard');

/** The bundled binary for this machine, as the package's own plugin picks it. */
function cfnGuardBinary(): string {
  const system = { linux: 'ubuntu', darwin: 'macos' }[process.platform as string];
  const architecture = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as string];
  if (system === undefined || architecture === undefined) {
    throw new Error(
      `@cdklabs/cdk-validator-cfnguard ships cfn-guard for Linux and macOS on x64 and arm64, not ${process.platform} ${process.arch}.`,
    );
  }
  const binary = path.join(PACKAGE_ROOT, 'bin', system, architecture, 'cfn-guard');
  try {
    fs.accessSync(binary, fs.constants.X_OK);
    return binary;
  } catch {
    // An install that dropped the file mode: run a private executable copy.
    const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-guard-')), 'cfn-guard');
    fs.copyFileSync(binary, copy);
    fs.chmodSync(copy, 0o755);
    return copy;
  }
}

interface GuardNode {
  readonly [key: string]: unknown;
}

const CONTROL_ID = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/;
const RESOURCE_PATH = /^\/Resources\/([^/]+)/;

/**
 * Collects (control, logical id) pairs under one failed rule of cfn-guard's structured output: the
 * control id is in the custom message of the rule or an enclosing one, the resource in the `path` of each
 * failed clause.
 */
function collectFailures(node: unknown, control: string | undefined, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectFailures(child, control, into);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as GuardNode;
  const messages = record.messages as { custom_message?: string | null } | undefined;
  const ownControl = CONTROL_ID.exec(messages?.custom_message ?? '')?.[1] ?? control;
  for (const [key, value] of Object.entries(record)) {
    const resource = key === 'path' && typeof value === 'string' ? RESOURCE_PATH.exec(value)?.[1] : undefined;
    if (resource !== undefined) into.add(`${ownControl ?? 'unknown control'}\u0000${resource}`);
    collectFailures(value, ownControl, into);
  }
}

/**
 * Validates the templates against every Control Tower rule in one cfn-guard run and returns each control
 * that failed on each resource. Throws when cfn-guard does not answer for every template.
 *
 * @example
 * const failures = runControlTowerRules(['cdk.out/ElectoralRoll.template.json']);
 */
export function runControlTowerRules(templates: readonly string[]): ControlFailure[] {
  const result = spawnSync(
    cfnGuardBinary(),
    [
      'validate',
      '--rules',
      CONTROL_TOWER_RULES,
      ...templates.flatMap((template) => ['--data', template]),
      '--output-format',
      'json',
      '--structured',
      '--show-summary',
      'none',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  // 0: every template passes; 19: some rule failed. Anything else is cfn-guard failing to run.
  if (result.error !== undefined || (result.status !== 0 && result.status !== 19)) {
    throw new Error(
      `cfn-guard exited with ${String(result.status)}: ${result.error?.message ?? result.stderr}`,
    );
  }
  const reports = JSON.parse(result.stdout) as { name: string; not_compliant: unknown[] }[];
  if (reports.length !== templates.length) {
    throw new Error(`cfn-guard reported on ${reports.length} of ${templates.length} templates`);
  }
  return reports.flatMap((report) => {
    const failures = new Set<string>();
    for (const failedRule of report.not_compliant) {
      const before = failures.size;
      collectFailures(failedRule, undefined, failures);
      // A failure that names no resource still fails the template: never drop it.
      if (failures.size === before) failures.add(`unknown control\u0000(template)`);
    }
    return [...failures].map((failure) => {
      const [control, logicalId] = failure.split('\u0000');
      return { control, templateFile: path.basename(report.name), logicalId };
    });
  });
}
