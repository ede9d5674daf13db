import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { checkTemplate, RegistryGuardChecks } from '../../rules';

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
        logicalIdByPath.set(construct.node.path, stack.getLogicalId(construct));
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
