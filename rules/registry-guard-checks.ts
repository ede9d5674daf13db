/**
 * The RegistryGuard cdk-nag pack: the rules of this package as a CDK policy-validation plugin.
 */
import { CfnMapping, CfnParameter, CfnResource, PolicyValidationPluginReport, Stack } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, NagPackProps, NagRuleCompliance } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { REGISTRY_GUARD_RULES, rulesByResourceType } from './all-rules';
import { AppFacts, PACK_NAME } from './rule';
import { GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE } from '../lib/classification';
import { runRule } from './check-template';
import { TemplateIndex } from './template-model';

/** Properties of {@link RegistryGuardChecks}: those of every cdk-nag 3 pack. */
export type RegistryGuardChecksProps = NagPackProps;

/** The internal renderer every CfnResource has: what the resource contributes to its template. */
interface RendersCloudFormation {
  _toCloudFormation(): unknown;
}

/**
 * Fails `cdk synth` when a bucket could become public, or a registry bucket misses its baseline.
 *
 * Rules read each stack's template through an index built once per stack, so checking stays linear in the
 * number of resources. Acknowledge a finding with `Validations.of(construct).acknowledge({ id, reason })`.
 *
 * @example
 * const app = new App();
 * new ElectoralRollStack(app, 'ElectoralRoll');
 * Validations.of(app).addPlugins(new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true }));
 */
export class RegistryGuardChecks extends NagPack {
  readonly name = 'RegistryGuardChecks';
  private readonly rulesByType = rulesByResourceType(REGISTRY_GUARD_RULES);
  private readonly stackIndexes = new Map<Stack, TemplateIndex>();
  private appFacts: AppFacts = { hasPublicAccessGuard: false };

  constructor(scope?: IConstruct, props?: RegistryGuardChecksProps) {
    super(scope, props);
    this.packName = PACK_NAME;
  }

  override validateScope(scope: IConstruct): PolicyValidationPluginReport {
    // Indexes describe one synthesis: never reuse them across validations.
    this.stackIndexes.clear();
    this.appFacts = factsOfTree(scope);
    try {
      return super.validateScope(scope);
    } finally {
      this.stackIndexes.clear();
    }
  }

  protected checkResource(node: CfnResource): void {
    const rules = this.rulesByType.get(node.cfnResourceType);
    if (rules === undefined) return;
    const stack = Stack.of(node);
    const index = this.indexFor(stack);
    const resource = index.resources.get(stack.getLogicalId(node));
    if (resource === undefined) return;
    for (const rule of rules) {
      this.applyRule({
        ruleSuffixOverride: rule.name,
        info: rule.info,
        explanation: rule.explanation,
        level: rule.level === 'error' ? NagMessageLevel.ERROR : NagMessageLevel.WARN,
        node,
        rule: () =>
          runRule(rule, resource, index, this.appFacts).length > 0
            ? NagRuleCompliance.NON_COMPLIANT
            : NagRuleCompliance.COMPLIANT,
      });
    }
  }

  private indexFor(stack: Stack): TemplateIndex {
    let index = this.stackIndexes.get(stack);
    if (index === undefined) {
      index = TemplateIndex.fromTemplate(renderStackTemplate(stack));
      this.stackIndexes.set(stack, index);
    }
    return index;
  }
}

/** What the whole construct tree shows, gathered in one walk before any rule runs. */
function factsOfTree(scope: IConstruct): AppFacts {
  const hasPublicAccessGuard = scope.node
    .findAll()
    .some(
      (construct) =>
        CfnResource.isCfnResource(construct) &&
        construct.cfnResourceType === 'AWS::Config::ConfigRule' &&
        construct.getMetadata(GUARD_MARKER_METADATA_KEY) === GUARD_MARKER_METADATA_VALUE,
    );
  return { hasPublicAccessGuard };
}

/** The stack's resources, parameters and mappings as they will appear in its template, overrides included. */
function renderStackTemplate(stack: Stack): Record<string, Record<string, unknown>> {
  const template: Record<string, Record<string, unknown>> = { Resources: {}, Parameters: {}, Mappings: {} };
  for (const construct of stack.node.findAll()) {
    if (Stack.of(construct) !== stack) continue;
    if (CfnResource.isCfnResource(construct) || construct instanceof CfnMapping) {
      const rendered = stack.resolve(
        (construct as unknown as RendersCloudFormation)._toCloudFormation(),
      ) as Record<string, Record<string, unknown> | undefined>;
      Object.assign(template.Resources, rendered.Resources ?? {});
      Object.assign(template.Mappings, rendered.Mappings ?? {});
    } else if (construct instanceof CfnParameter) {
      template.Parameters[stack.getLogicalId(construct)] = { AllowedValues: construct.allowedValues };
    }
  }
  return template;
}
