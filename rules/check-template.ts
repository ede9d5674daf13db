/**
 * Runs the RegistryGuard rules over a parsed CloudFormation template, without a CDK app: the engine
 * behind `registry-guard check`. Same rules, ids, levels and judgement as the nag pack.
 */
import {
  AcknowledgementVerdict,
  acknowledgementVerdict,
  nearestAcknowledgements,
  templateAcknowledgements,
} from './acknowledgement';
import { REGISTRY_GUARD_RULES, rulesByResourceType } from './all-rules';
import { AppFacts, RegistryGuardRule, RuleLevel, ruleId } from './rule';
import { TemplateIndex, TemplateResource } from './template-model';

/** One rule that one resource breaks. */
export interface Finding {
  /** `RegistryGuard-S3PublicPolicy`. */
  readonly ruleId: string;
  /** How serious the finding is: the rule's level. */
  readonly level: RuleLevel;
  /** The resource's logical id. */
  readonly resource: string;
  /** The resource's CloudFormation type: `AWS::S3::Bucket`. */
  readonly resourceType: string;
  /**
   * The rule's one-line summary followed by what exactly is wrong, and why an acknowledgement of it is not
   * honoured when one is not (expired, malformed, or not allowed on a registry bucket).
   */
  readonly message: string;
}

/** A finding that an acknowledgement in force covers: not reported as failing, kept for audit (SARIF). */
export interface AcknowledgedFinding extends Finding {
  /** The acknowledgement's reason. */
  readonly justification: string;
}

/**
 * Options for {@link checkTemplate}.
 *
 * @jsii ignore TypeScript only: see TemplateChecksOptions
 */
export interface CheckTemplateOptions {
  /** @default every rule of the pack */
  readonly rules?: readonly RegistryGuardRule[];
  /**
   * Facts about the whole app the template belongs to (a cdk.out holds several templates).
   * @default what this template alone shows
   */
  readonly app?: AppFacts;
  /**
   * The moment acknowledgements are judged at: one whose reason says `until YYYY-MM-DD` holds to the end of
   * that day, UTC.
   * @default the current time
   */
  readonly now?: Date;
}

/** What a set of templates shows about their app: a guard deployed by any of them guards them all. */
export function appFactsOf(indexes: readonly TemplateIndex[]): AppFacts {
  return { hasPublicAccessGuard: indexes.some((index) => index.deploysPublicAccessGuard) };
}

/**
 * The outcome of one rule on one resource.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface RuleEvaluation {
  readonly rule: RegistryGuardRule;
  readonly resource: TemplateResource;
  /** What is wrong, acknowledged or not; empty when the resource complies. */
  readonly problems: readonly string[];
  /** True when an acknowledgement in force covers this rule on this resource: its problems are not reported. */
  readonly acknowledged: boolean;
  /**
   * What the resource's template metadata (`Metadata.cdk_nag.rules_to_suppress`) says about this rule, judged:
   * accepted, or refused with why (expired, malformed, not allowed on a registry bucket). Absent when it says
   * nothing.
   */
  readonly acknowledgement?: AcknowledgementVerdict;
}

/**
 * Runs every applicable rule on every resource of one template, once each: the full record, passes
 * included, for reports that list every check (JUnit).
 */
export function evaluateTemplate(template: unknown, options: CheckTemplateOptions = {}): RuleEvaluation[] {
  const index = template instanceof TemplateIndex ? template : TemplateIndex.fromTemplate(template);
  const app = options.app ?? appFactsOf([index]);
  const now = options.now ?? new Date();
  const byType = options.rules === undefined ? DEFAULT_RULES_BY_TYPE : rulesByResourceType(options.rules);
  const evaluations: RuleEvaluation[] = [];
  for (const resource of index.resources.values()) {
    const rules = byType.get(resource.type);
    if (rules === undefined) continue;
    const acknowledgements = nearestAcknowledgements(templateAcknowledgements(resource));
    for (const rule of rules) {
      // Acknowledged rules run too: an acknowledged finding is still reported to SARIF, as suppressed.
      const problems = runRule(rule, resource, index, app);
      const acknowledgement = acknowledgementVerdict(rule, acknowledgements, { resource, index, now });
      evaluations.push({
        rule,
        resource,
        problems,
        acknowledged: acknowledgement?.accepted === true,
        ...(acknowledgement === undefined ? {} : { acknowledgement }),
      });
    }
  }
  return evaluations;
}

/** The finding an evaluation reports, or undefined when it passed or an acknowledgement in force covers it. */
export function findingOf(evaluation: RuleEvaluation): Finding | undefined {
  if (evaluation.problems.length === 0 || evaluation.acknowledged) return undefined;
  const refusal = evaluation.acknowledgement?.accepted === false ? ` ${evaluation.acknowledgement.why}.` : '';
  const finding = describedFinding(evaluation);
  return { ...finding, message: `${finding.message}${refusal}` };
}

/** The finding an acknowledgement in force covers, with its reason; undefined for any other evaluation. */
export function acknowledgedFindingOf(evaluation: RuleEvaluation): AcknowledgedFinding | undefined {
  if (evaluation.problems.length === 0 || evaluation.acknowledgement?.accepted !== true) return undefined;
  return { ...describedFinding(evaluation), justification: evaluation.acknowledgement.reason };
}

function describedFinding(evaluation: RuleEvaluation): Finding {
  return {
    ruleId: ruleId(evaluation.rule),
    level: evaluation.rule.level,
    resource: evaluation.resource.logicalId,
    resourceType: evaluation.resource.type,
    message: `${evaluation.rule.info} ${sentence(evaluation.problems.join('; '))}.`,
  };
}

/**
 * Checks one template (a parsed template, or a {@link TemplateIndex} already built from one). Rules acknowledged
 * in a resource's `Metadata.cdk_nag.rules_to_suppress` (written by cdk-nag 3 with
 * `writeSuppressionsToCloudFormation: true`, or by hand) are not reported for that resource while the
 * acknowledgement is in force (see `rules/acknowledgement.ts`: expiry, and findings that cannot be acknowledged).
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
