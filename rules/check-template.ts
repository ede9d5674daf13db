/**
 * Runs the RegistryGuard rules over a parsed CloudFormation template, without a CDK app: the engine
 * behind `registry-guard check`. Same rules, ids, levels and judgement as the nag pack.
 */
import { REGISTRY_GUARD_RULES, rulesByResourceType } from './all-rules';
import { AppFacts, RegistryGuardRule, RuleLevel, ruleId } from './rule';
import { fieldsOf, listOf, TemplateIndex, TemplateResource } from './template-model';

/** One rule that one resource breaks. */
export interface Finding {
  /** `RegistryGuard-S3PublicPolicy`. */
  readonly ruleId: string;
  readonly level: RuleLevel;
  /** The resource's logical id. */
  readonly resource: string;
  readonly resourceType: string;
  /** The rule's one-line summary followed by what exactly is wrong. */
  readonly message: string;
}

/** Options for {@link checkTemplate}. */
export interface CheckTemplateOptions {
  /** @default every rule of the pack */
  readonly rules?: readonly RegistryGuardRule[];
  /**
   * Facts about the whole app the template belongs to (a cdk.out holds several templates).
   * @default what this template alone shows
   */
  readonly app?: AppFacts;
}

/** What a set of templates shows about their app: a guard deployed by any of them guards them all. */
export function appFactsOf(indexes: readonly TemplateIndex[]): AppFacts {
  return { hasPublicAccessGuard: indexes.some((index) => index.deploysPublicAccessGuard) };
}

/** The outcome of one rule on one resource. */
export interface RuleEvaluation {
  readonly rule: RegistryGuardRule;
  readonly resource: TemplateResource;
  /** What is wrong; empty when the resource complies or the rule is acknowledged. */
  readonly problems: readonly string[];
  /** True when the template's metadata acknowledges this rule for this resource (the rule is not run). */
  readonly acknowledged: boolean;
}

/**
 * Runs every applicable rule on every resource of one template, once each: the full record, passes
 * included, for reports that list every check (JUnit).
 */
export function evaluateTemplate(template: unknown, options: CheckTemplateOptions = {}): RuleEvaluation[] {
  const index = template instanceof TemplateIndex ? template : TemplateIndex.fromTemplate(template);
  const app = options.app ?? appFactsOf([index]);
  const byType = options.rules === undefined ? DEFAULT_RULES_BY_TYPE : rulesByResourceType(options.rules);
  const evaluations: RuleEvaluation[] = [];
  for (const resource of index.resources.values()) {
    const rules = byType.get(resource.type);
    if (rules === undefined) continue;
    const acknowledgedIds = acknowledgedRuleIds(resource);
    for (const rule of rules) {
      const acknowledged = acknowledgedIds.has(ruleId(rule));
      const problems = acknowledged ? [] : runRule(rule, resource, index, app);
      evaluations.push({ rule, resource, problems, acknowledged });
    }
  }
  return evaluations;
}

/** The finding an evaluation reports, or undefined when it passed or was acknowledged. */
export function findingOf(evaluation: RuleEvaluation): Finding | undefined {
  if (evaluation.problems.length === 0) return undefined;
  return {
    ruleId: ruleId(evaluation.rule),
    level: evaluation.rule.level,
    resource: evaluation.resource.logicalId,
    resourceType: evaluation.resource.type,
    message: `${evaluation.rule.info} ${sentence(evaluation.problems.join('; '))}.`,
  };
}

/**
 * Checks one template (a parsed template, or a {@link TemplateIndex} already built from one). Rules acknowledged in a resource's `Metadata.cdk_nag.rules_to_suppress` (written by
 * cdk-nag 3 with `writeSuppressionsToCloudFormation: true`, or by hand) are not reported for that resource.
 *
 * @example
 * const findings = checkTemplate(JSON.parse(fs.readFileSync('cdk.out/Roll.template.json', 'utf8')));
 * findings.filter((f) => f.level === 'error').length; // 0 for a SensitiveRegistryBucket
 */
export function checkTemplate(template: unknown, options: CheckTemplateOptions = {}): Finding[] {
  return evaluateTemplate(template, options)
    .map(findingOf)
    .filter((finding): finding is Finding => finding !== undefined);
}

const DEFAULT_RULES_BY_TYPE = rulesByResourceType(REGISTRY_GUARD_RULES);

/** A rule that throws on a malformed resource reports that as a finding: never a crash, never a pass. */
export function runRule(
  rule: RegistryGuardRule,
  resource: TemplateResource,
  index: TemplateIndex,
  app: AppFacts,
): string[] {
  try {
    return rule.check(resource, index, app);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [`the rule could not read this resource (${reason}), so it cannot be shown to comply`];
  }
}

/** Problems read as a sentence after the rule's summary. */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function acknowledgedRuleIds(resource: TemplateResource): ReadonlySet<string> {
  const suppressions = listOf(fieldsOf(resource.metadata.cdk_nag).rules_to_suppress);
  return new Set(
    suppressions.map((entry) => fieldsOf(entry).id).filter((id): id is string => typeof id === 'string'),
  );
}
