/**
 * Runs the RegistryGuard rules over a parsed CloudFormation template, without a CDK app: the engine
 * behind `registry-guard check`. Same rules, ids, levels and judgement as the nag pack.
 */
import { REGISTRY_GUARD_RULES, rulesByResourceType } from './all-rules';
import { RegistryGuardRule, RuleLevel, ruleId } from './rule';
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
}

/**
 * Checks one template. Rules acknowledged in a resource's `Metadata.cdk_nag.rules_to_suppress` (written by
 * cdk-nag 3 with `writeSuppressionsToCloudFormation: true`, or by hand) are not reported for that resource.
 *
 * @example
 * const findings = checkTemplate(JSON.parse(fs.readFileSync('cdk.out/Roll.template.json', 'utf8')));
 * findings.filter((f) => f.level === 'error').length; // 0 for a SensitiveRegistryBucket
 */
export function checkTemplate(template: unknown, options: CheckTemplateOptions = {}): Finding[] {
  const index = TemplateIndex.fromTemplate(template);
  const byType = options.rules === undefined ? DEFAULT_RULES_BY_TYPE : rulesByResourceType(options.rules);
  const findings: Finding[] = [];
  for (const resource of index.resources.values()) {
    const rules = byType.get(resource.type);
    if (rules === undefined) continue;
    const acknowledged = acknowledgedRuleIds(resource);
    for (const rule of rules) {
      const id = ruleId(rule);
      if (acknowledged.has(id)) continue;
      const problems = runRule(rule, resource, index);
      if (problems.length === 0) continue;
      findings.push({
        ruleId: id,
        level: rule.level,
        resource: resource.logicalId,
        resourceType: resource.type,
        message: `${rule.info} ${problems.join('; ')}.`,
      });
    }
  }
  return findings;
}

const DEFAULT_RULES_BY_TYPE = rulesByResourceType(REGISTRY_GUARD_RULES);

/** A rule that throws on a malformed resource reports that as a finding: never a crash, never a pass. */
export function runRule(rule: RegistryGuardRule, resource: TemplateResource, index: TemplateIndex): string[] {
  try {
    return rule.check(resource, index);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [`the rule could not read this resource (${reason}), so it cannot be shown to comply`];
  }
}

function acknowledgedRuleIds(resource: TemplateResource): ReadonlySet<string> {
  const suppressions = listOf(fieldsOf(resource.metadata.cdk_nag).rules_to_suppress);
  return new Set(suppressions.map((entry) => fieldsOf(entry).id).filter((id): id is string => typeof id === 'string'));
}
