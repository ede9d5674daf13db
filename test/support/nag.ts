import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, CfnResource, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { check } from '../../lib/cli/run-cli';
import { checkTemplate } from '../../rules/check-template';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';

/** A rule broken by a resource: `RegistryGuard-S3PublicPolicy@OpenBucket1234`. */
export type Violation = string;

/**
 * Runs the nag pack over the app and the template engine (the CLI's) over each stack's synthesized
 * template, checks that both report the same violations, and returns them sorted.
 */
export function violationsOf(app: App): Violation[] {
  // Registered before synthesis so acknowledgements reach the templates, as the example app does.
  const pack = new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true });
  app.synth();
  const logicalIdByPath = new Map<string, string>();
  const stacks = app.node.findAll().filter((construct): construct is Stack => Stack.isStack(construct));
  for (const stack of stacks) {
    for (const construct of stack.node.findAll()) {
      if (CfnResource.isCfnResource(construct) && Stack.of(construct) === stack) {
        logicalIdByPath.set(construct.node.path, templateLogicalId(construct));
      }
    }
  }
  const report = pack.validateScope(app);
  const fromPack = report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) =>
        `${violation.ruleName}@${logicalIdByPath.get(resource.constructPath ?? '') ?? resource.constructPath}`,
    ),
  );
  const fromTemplates = stacks.flatMap((stack) =>
    checkTemplate(Template.fromStack(stack).toJSON()).map(
      (finding) => `${finding.ruleId}@${finding.resource}`,
    ),
  );
  expect([...fromTemplates].sort()).toEqual([...fromPack].sort());
  return fromPack.sort();
}

/** The rule ids (without resources) an app breaks. */
export function ruleIdsOf(app: App): string[] {
  return [...new Set(violationsOf(app).map((violation) => violation.split('@')[0]))].sort();
}

/** The logical id an element has in its template: `overrideLogicalId` and `CfnInclude`'s ids applied. */
export function templateLogicalId(element: CfnElement): string {
  return String(Stack.of(element).resolve(element.logicalId));
}

/**
 * A rule broken by a resource of one template of a cloud assembly:
 * `RegistryGuard-S3PublicPolicy Test.template.json/Pinned`. Templates tell apart resources of several stacks
 * (nested ones included) that share a logical id.
 */
export type TemplateViolation = string;

function templateViolation(ruleId: string, templateFile: string, logicalId: string): TemplateViolation {
  return `${ruleId} ${path.basename(templateFile)}/${logicalId}`;
}

/** An app that synthesizes to its own temporary cdk.out with the pack registered, as a user's app does. */
export interface GuardedApp {
  readonly app: App;
  readonly pack: RegistryGuardChecks;
  /** The app's cdk.out; remove it with {@link removeOutdir}. */
  readonly outdir: string;
}

/** Options of {@link newGuardedApp}. */
export interface GuardedAppOptions {
  /** Whether a violation makes `app.synth()` throw (cdk-nag 3's default). @default true */
  readonly failSynth?: boolean;
}

/**
 * App props that turn CDK's built-in CloudFormation validation off: it is not ours, and it slows and clutters
 * test output. Spread, not written in the props: `builtinCloudFormationValidation` exists from aws-cdk-lib
 * 2.275, and the tests run against the peer minimum too (jsii's rule), which has no such validation and
 * whose AppProps would refuse the name.
 */
export const WITHOUT_BUILTIN_VALIDATION = { builtinCloudFormationValidation: false } as const;

/**
 * A new app with the pack registered as a validation plugin, acknowledgements written into the templates
 * (`writeSuppressionsToCloudFormation`), and CDK's built-in CloudFormation validation off (it is not ours, and
 * it slows and clutters test output).
 */
export function newGuardedApp(options: GuardedAppOptions = {}): GuardedApp {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-'));
  const app = new App({
    outdir,
    ...WITHOUT_BUILTIN_VALIDATION,
    context: options.failSynth === false ? { '@aws-cdk/core:failSynthOnValidationErrors': false } : undefined,
  });
  const pack = new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(pack);
  return { app, pack, outdir };
}

/** Deletes a temporary cdk.out. */
export function removeOutdir(outdir: string): void {
  fs.rmSync(outdir, { recursive: true, force: true });
}

/** Construct path → the template file and logical id of each CloudFormation resource under the scope. */
function resourceLocations(scope: IConstruct): Map<string, { templateFile: string; logicalId: string }> {
  const locations = new Map<string, { templateFile: string; logicalId: string }>();
  for (const construct of scope.node.findAll()) {
    if (CfnResource.isCfnResource(construct)) {
      locations.set(construct.node.path, {
        templateFile: Stack.of(construct).templateFile,
        logicalId: templateLogicalId(construct),
      });
    }
  }
  return locations;
}

/** Construct paths of violating resources, located through the construct tree (not from what the pack says). */
function locatedViolations(
  scope: IConstruct,
  violations: readonly { ruleName: string; constructPaths: readonly string[] }[],
): TemplateViolation[] {
  const locations = resourceLocations(scope);
  return violations
    .flatMap((violation) =>
      violation.constructPaths.map((constructPath) => {
        const location = locations.get(constructPath);
        if (location === undefined)
          throw new Error(`${constructPath}: no CloudFormation resource at this path`);
        return templateViolation(violation.ruleName, location.templateFile, location.logicalId);
      }),
    )
    .sort();
}

/** The violations of a pack report (from `validateScope`), each located in its template. */
export function packTemplateViolations(
  scope: IConstruct,
  report: PolicyValidationPluginReport,
): TemplateViolation[] {
  return locatedViolations(
    scope,
    report.violations.map((violation) => ({
      ruleName: violation.ruleName,
      constructPaths: violation.violatingResources.map((resource) => resource.constructPath ?? ''),
    })),
  );
}

/** What the pack reported during `app.synth()`, as the CDK wrote it to `<outdir>/validation-report.json`. */
export function synthReportViolations(app: App, outdir: string): TemplateViolation[] {
  const reportFile = path.join(outdir, 'validation-report.json');
  if (!fs.existsSync(reportFile)) return [];
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as {
    pluginReports?: {
      pluginName: string;
      violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  const fromPack = (report.pluginReports ?? []).filter(
    (plugin) => plugin.pluginName === 'RegistryGuardChecks',
  );
  return locatedViolations(
    app,
    fromPack.flatMap((plugin) =>
      plugin.violations.map((violation) => ({
        ruleName: violation.ruleName,
        constructPaths: violation.violatingConstructs.map((construct) => construct.constructPath),
      })),
    ),
  );
}

/** What `registry-guard check <outdir>` reports, each finding in its template. */
export function cliTemplateViolations(outdir: string): TemplateViolation[] {
  return check({ paths: [outdir], failOn: 'never' }, 'test')
    .findings.map((finding) => templateViolation(finding.ruleId, finding.path, finding.resource))
    .sort();
}
