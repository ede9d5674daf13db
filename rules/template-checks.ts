/**
 * Checking a template from any jsii language. jsii has no free functions: `TemplateChecks.checkTemplate` is
 * `checkTemplate` as a static method (as cdk-nag's `NagRules` wraps its helpers), taking rules written in
 * Python, Java or C# ({@link IRegistryGuardRule}) beside the pack's own.
 */
import { REGISTRY_GUARD_RULES } from './all-rules';
import { checkTemplate, Finding } from './check-template';
import { AppFacts, IRegistryGuardRule, RegistryGuardRule, ruleId } from './rule';

/** Options of {@link TemplateChecks.checkTemplate}. */
export interface TemplateChecksOptions {
  /**
   * Rules of your own, run after the pack's.
   * @default none
   */
  readonly rules?: IRegistryGuardRule[];

  /**
   * Run the pack's own rules; `false` runs only `rules`.
   * @default true
   */
  readonly packRules?: boolean;

  /**
   * Facts about the whole app the template belongs to (a cdk.out holds several templates).
   * @default what this template alone shows
   */
  readonly app?: AppFacts;
}

/**
 * The rules of the pack over a parsed CloudFormation template, without a CDK app, from any jsii language.
 *
 * @example
 * const findings = TemplateChecks.checkTemplate(JSON.parse(fs.readFileSync('cdk.out/Roll.template.json', 'utf8')));
 * findings.filter((finding) => finding.level === RuleLevel.ERROR).length; // 0 for a SensitiveRegistryBucket
 */
export class TemplateChecks {
  /**
   * The findings of the pack's rules and of `options.rules` on one template. Rules a resource's
   * `Metadata.cdk_nag.rules_to_suppress` acknowledges are not reported for it. A rule that throws reports
   * that as a finding: never a crash, never a pass.
   *
   * @param template a parsed template: `{ Resources: { ... }, Parameters: { ... } }`
   * @param options your own rules, and the facts of the app around the template
   */
  static checkTemplate(template: unknown, options: TemplateChecksOptions = {}): Finding[] {
    // IRegistryGuardRule is a RegistryGuardRule whose resourceTypes may change: the engine only reads them.
    const rules: RegistryGuardRule[] = [
      ...(options.packRules === false ? [] : REGISTRY_GUARD_RULES),
      ...(options.rules ?? []),
    ];
    return checkTemplate(template, { rules, app: options.app });
  }

  /** The ids of the pack's own rules (`RegistryGuard-S3PublicPolicy`, ...), as findings and acknowledgements name them. */
  static packRuleIds(): string[] {
    return REGISTRY_GUARD_RULES.map(ruleId);
  }

  private constructor() {}
}
