/**
 * The RegistryGuard cdk-nag pack: the rules of this package as a CDK policy-validation plugin.
 */
import * as path from 'path';
import {
  AspectPriority,
  Aspects,
  CfnElement,
  CfnResource,
  PolicyValidationPluginReport,
  PolicyViolatingResource,
  PolicyViolation,
  Stack,
  Stage,
  Validations,
} from 'aws-cdk-lib';
import {
  NagMessageLevel,
  NagPack,
  NagPackProps,
  NagRuleCompliance,
  WriteNagSuppressionsToCloudFormationAspect,
} from 'cdk-nag';
import { IConstruct } from 'constructs';
import {
  Acknowledgement,
  acknowledgementVerdict,
  nearestAcknowledgements,
  plainRuleId,
  PLUGIN_NAME,
  templateAcknowledgements,
  validationsAcknowledgements,
} from './acknowledgement';
import { REGISTRY_GUARD_RULES, rulesByResourceType } from './all-rules';
import { AppFacts, PACK_NAME, RegistryGuardRule, ruleId } from './rule';
import { appFactsOf, runRule } from './check-template';
import { fieldsOf, listOf, TemplateIndex } from './template-model';

/**
 * Properties of {@link RegistryGuardChecks}: those of every cdk-nag 3 pack, and the clock. `verbose` adds each
 * rule's explanation (why it matters, how to fix it) to its findings. `writeSuppressionsToCloudFormation` writes
 * acknowledged rule ids into each resource's template metadata (`Metadata.cdk_nag.rules_to_suppress`) as plain
 * rule ids, where `registry-guard check` reads them, so the CLI honours what the app acknowledged. (Described
 * here, not redeclared: jsii refuses an interface that redeclares a member of its base, invalid in C#.)
 */
export interface RegistryGuardChecksProps extends NagPackProps {
  /**
   * The clock acknowledgements are judged by: one whose reason says `until YYYY-MM-DD` holds to the end of
   * that day, UTC. Read once per validation. For tests.
   * @default the system clock
   * @jsii ignore TypeScript only: a function
   */
  readonly clock?: () => Date;
}

/** The internal renderer every CfnElement has: what the element contributes to its template. */
interface RendersCloudFormation {
  _toCloudFormation(): unknown;
}

/** Where a checked resource is in the synthesized output: what the CLI reports it by. */
interface TemplateLocation {
  /** The logical id in the template, overrides (`overrideLogicalId`, `CfnInclude`) applied. */
  readonly logicalId: string;
  /** The template file in the cloud assembly: `<outdir>/<artifact>.template.json` or `.nested.template.json`. */
  readonly templatePath: string;
}

/**
 * Fails `cdk synth` when a bucket could become public, or a registry bucket misses its baseline.
 *
 * Rules read each stack's template through an index built once per stack, so checking stays linear in the
 * number of resources. A resource is found in that index by the logical id its template really has
 * (`overrideLogicalId` and `CfnInclude` included), and its type there decides which rules run; a resource
 * the index does not hold is reported as breaking every rule of its type, never passed. Each violating
 * resource of the report carries its logical id and template path, as the CLI reports it.
 * Acknowledge a finding with `Validations.of(construct).acknowledge({ id, reason })`, `id` being the rule id
 * (`RegistryGuard-S3PublicPolicy`) or the `RegistryGuardChecks::RegistryGuard-S3PublicPolicy` CDK's report
 * offers; `writeSuppressionsToCloudFormation` writes either as the plain rule id, which the CLI reads. The
 * resource's template metadata (`Metadata.cdk_nag.rules_to_suppress`) acknowledges too, as in the CLI. The pack
 * reads every acknowledgement itself, with the CLI's code (`rules/acknowledgement.ts`): one that has expired
 * (`until YYYY-MM-DD` in its reason), whose expiry cannot be read, or that names a public-access or
 * external-access rule on a registry bucket does not silence the finding, which is reported with severity
 * `fatal` (CDK's report then cannot silence it either) and says why. Inside a `Stage`, construct a pack for the
 * Stage too: CDK does not pass the App's Aspects into Stages, so acknowledgements there reach the templates
 * only through a writer registered on the Stage.
 *
 * @example
 * const app = new App();
 * new ElectoralRollStack(app, 'ElectoralRoll');
 * Validations.of(app).addPlugins(new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true }));
 */
export class RegistryGuardChecks extends NagPack {
  readonly name = PLUGIN_NAME;
  private readonly rulesByType = rulesByResourceType(REGISTRY_GUARD_RULES);
  private readonly stackIndexes = new Map<Stack, TemplateIndex>();
  /** Construct path of each checked resource → where it is in the templates. */
  private readonly locations = new Map<string, TemplateLocation>();
  /** Construct path of each resource missing from its template's index → why it is reported. */
  private readonly missingReasons = new Map<string, string>();
  /** Findings whose acknowledgement was refused: reported by the pack, not by cdk-nag, which would honour it. */
  private readonly refusedViolations: PolicyViolation[] = [];
  private appFacts: AppFacts = { hasPublicAccessGuard: false };
  private now = new Date(0);
  private readonly clock: () => Date;
  private readonly explain: boolean;

  constructor(scope?: IConstruct, props?: RegistryGuardChecksProps) {
    super(scope, { ...props, writeSuppressionsToCloudFormation: false });
    this.packName = PACK_NAME;
    this.clock = props?.clock ?? (() => new Date());
    this.explain = props?.verbose ?? false;
    if (scope !== undefined && props?.writeSuppressionsToCloudFormation === true) {
      // After any cdk-nag writer (DEFAULT), so the plain ids it writes are the ones that stay.
      Aspects.of(scope).add(new WriteAcknowledgementsToCloudFormation(), {
        priority: AspectPriority.DEFAULT + 1,
      });
    }
  }

  override validateScope(scope: IConstruct): PolicyValidationPluginReport {
    // Indexes describe one synthesis: never reuse them across validations.
    this.clearRun();
    this.appFacts = this.factsOfTemplates(scope);
    this.now = this.clock();
    try {
      const report = super.validateScope(scope);
      const violations = [...report.violations, ...this.refusedViolations].map((violation) =>
        this.located(violation),
      );
      return { ...report, success: violations.length === 0, violations };
    } finally {
      this.clearRun();
    }
  }

  protected checkResource(node: CfnResource): void {
    const stack = Stack.of(node);
    const index = this.indexFor(stack);
    // The id the template has: `getLogicalId` would ignore `overrideLogicalId` and CfnInclude's ids.
    const logicalId = String(stack.resolve(node.logicalId));
    const resource = index.resources.get(logicalId);
    // The template's type, as the CLI reads it, unless the template has no such resource.
    const rules = this.rulesByType.get(resource?.type ?? node.cfnResourceType);
    if (rules === undefined) return;
    this.locations.set(node.node.path, { logicalId, templatePath: templatePathOf(stack) });
    if (resource === undefined) {
      this.missingReasons.set(
        node.node.path,
        `${node.node.path} (${node.cfnResourceType}) is not in the template rendered for stack ` +
          `${stack.node.path} under its logical id ${logicalId}, so no rule can show it complies.`,
      );
    }
    // Nearest first: the resource's template metadata, then the resource's and each enclosing scope's.
    const acknowledgements = nearestAcknowledgements([
      ...templateAcknowledgements(resource),
      ...constructAcknowledgements(node),
    ]);
    const context = { resource, index, now: this.now };
    for (const rule of rules) {
      const compliance = (): NagRuleCompliance =>
        resource === undefined || runRule(rule, resource, index, this.appFacts).length > 0
          ? NagRuleCompliance.NON_COMPLIANT
          : NagRuleCompliance.COMPLIANT;
      const verdict = acknowledgementVerdict(rule, acknowledgements, context);
      if (verdict === undefined) {
        this.applyRegistryRule(rule, node, compliance);
      } else if (!verdict.accepted && compliance() === NagRuleCompliance.NON_COMPLIANT) {
        // cdk-nag would honour a plain-id acknowledgement, and CDK a namespaced one, whatever its date: the
        // pack reports the finding itself, as fatal, which CDK's report never silences.
        this.refusedViolations.push({
          ruleName: ruleId(rule),
          description: [rule.info, `${verdict.why}.`, ...(this.explain ? [rule.explanation] : [])].join(' '),
          severity: 'fatal',
          violatingResources: [{ constructPath: node.node.path, locations: ['Properties'] }],
        });
      }
    }
  }

  private applyRegistryRule(
    rule: RegistryGuardRule,
    node: CfnResource,
    compliance: () => NagRuleCompliance,
  ): void {
    this.applyRule({
      ruleSuffixOverride: rule.name,
      info: rule.info,
      explanation: rule.explanation,
      level: rule.level === 'error' ? NagMessageLevel.ERROR : NagMessageLevel.WARN,
      node,
      rule: compliance,
    });
  }

  /**
   * A violation whose resources carry their logical id and template path, and whose description says why
   * a resource missing from its template was reported. cdk-nag records only construct paths.
   */
  private located(violation: PolicyViolation): PolicyViolation {
    const missing = violation.violatingResources
      .map((resource) => this.missingReasons.get(resource.constructPath ?? ''))
      .filter((reason): reason is string => reason !== undefined);
    return {
      ...violation,
      description: [violation.description, ...missing].join(' '),
      violatingResources: violation.violatingResources.map((resource): PolicyViolatingResource => {
        const location = this.locations.get(resource.constructPath ?? '');
        return location === undefined
          ? resource
          : { ...resource, resourceLogicalId: location.logicalId, templatePath: location.templatePath };
      }),
    };
  }

  /**
   * What the templates of the stacks in scope show about the app, read as the CLI reads a cdk.out; for a
   * scope inside a stack, that stack's template.
   */
  private factsOfTemplates(scope: IConstruct): AppFacts {
    const stacks = scope.node.findAll().filter((construct): construct is Stack => Stack.isStack(construct));
    if (stacks.length === 0 && scope.node.scopes.some((construct) => Stack.isStack(construct))) {
      stacks.push(Stack.of(scope));
    }
    return appFactsOf(stacks.map((stack) => this.indexFor(stack)));
  }

  private clearRun(): void {
    this.stackIndexes.clear();
    this.locations.clear();
    this.missingReasons.clear();
    this.refusedViolations.length = 0;
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

/**
 * What `Validations.of(x).acknowledge` recorded on the resource and every scope above it, nearest first: the
 * plain ids cdk-nag honours and the `RegistryGuardChecks::` ids CDK's report offers, with their reasons.
 */
function constructAcknowledgements(node: IConstruct): Acknowledgement[] {
  return validationsAcknowledgements(
    [...node.node.scopes]
      .reverse()
      .flatMap((scope) =>
        scope.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .map((entry) => entry.data as unknown),
      ),
  );
}

/**
 * cdk-nag's `writeSuppressionsToCloudFormation` writer, with this plugin's namespaced acknowledgements written
 * as plain rule ids: `Metadata.cdk_nag.rules_to_suppress` is read by the CLI and cdk-nag 2 tooling, which
 * know `RegistryGuard-S3PublicPolicy`, not `RegistryGuardChecks::RegistryGuard-S3PublicPolicy`.
 */
class WriteAcknowledgementsToCloudFormation extends WriteNagSuppressionsToCloudFormationAspect {
  override visit(node: IConstruct): void {
    super.visit(node);
    if (!CfnResource.isCfnResource(node)) return;
    const written = fieldsOf(node.getMetadata('cdk_nag'));
    const ids = new Set<string>();
    const rules = listOf(written.rules_to_suppress).flatMap((entry) => {
      const rule = fieldsOf(entry);
      const id = typeof rule.id === 'string' ? (plainRuleId(rule.id) ?? rule.id) : rule.id;
      if (typeof id === 'string' && ids.has(id)) return [];
      if (typeof id === 'string') ids.add(id);
      return [{ ...rule, id }];
    });
    if (rules.length > 0) node.addMetadata('cdk_nag', { ...written, rules_to_suppress: rules });
  }
}

/** Where the stack's template is written: nested stacks' templates go to their parent's assembly. */
function templatePathOf(stack: Stack): string {
  const outdir = Stage.of(stack)?.outdir;
  return outdir === undefined ? stack.templateFile : path.join(outdir, stack.templateFile);
}

/**
 * The sections of the stack's template that rules read (resources, parameters, mappings), as
 * `Stack._toCloudFormation` renders them: each element under the id it really has, overrides included.
 */
function renderStackTemplate(stack: Stack): Record<string, Record<string, unknown>> {
  const template: Record<string, Record<string, unknown>> = { Resources: {}, Parameters: {}, Mappings: {} };
  for (const construct of stack.node.findAll()) {
    if (!CfnElement.isCfnElement(construct) || Stack.of(construct) !== stack) continue;
    const rendered = stack.resolve((construct as unknown as RendersCloudFormation)._toCloudFormation()) as
      Record<string, Record<string, unknown> | undefined> | undefined;
    for (const section of Object.keys(template)) Object.assign(template[section], rendered?.[section] ?? {});
  }
  return template;
}
