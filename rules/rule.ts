/**
 * The shape of a RegistryGuard rule. A rule is a plain function over one template resource and the
 * template's index; the nag pack and the CLI both run the same list of rules.
 */
import type { ITemplateIndex, TemplateIndex, TemplateResource } from './template-model';

/** How serious a finding is. cdk-nag 3 fails synth on both; the CLI's `--fail-on` tells them apart. */
export enum RuleLevel {
  /** The resource is, or can become, exposed; or a registry misses its baseline. */
  ERROR = 'error',
  /** Worth a look, not proof of a problem: the CLI fails on it only with `--fail-on warning`. */
  WARNING = 'warning',
}

/** Every rule id starts with this, followed by a dash and the rule's name. */
export const PACK_NAME = 'RegistryGuard';

/** Facts about the whole app (or every template of one CLI run), gathered once before rules run. */
export interface AppFacts {
  /** Some stack of the app deploys a PublicAccessGuard (its marked Config rule). */
  readonly hasPublicAccessGuard: boolean;
}

/**
 * {@link AppFacts} as {@link IRegistryGuardRule.check} receives them: an interface, passed by reference,
 * because jsii's Python binding would spread a struct in last position into keyword arguments of the rule's
 * `check`, and every new fact would change the signature a rule must have.
 */
export interface IAppFacts {
  /** Some stack of the app deploys a PublicAccessGuard (its marked Config rule). */
  readonly hasPublicAccessGuard: boolean;
}

/**
 * A rule of the RegistryGuard pack.
 *
 * @jsii ignore TypeScript only: see IRegistryGuardRule
 */
export interface RegistryGuardRule {
  /** The name after `RegistryGuard-`: stable, users acknowledge by it. */
  readonly name: string;
  /** How serious its findings are. */
  readonly level: RuleLevel;
  /** CloudFormation resource types the rule looks at. */
  readonly resourceTypes: readonly string[];
  /** One line: what is wrong when the rule fires. */
  readonly info: string;
  /** Why it matters and how to fix it. */
  readonly explanation: string;
  /**
   * The problems found on one resource, each a sentence naming what to fix; empty when it complies.
   * Only called for resources of `resourceTypes`.
   */
  check(resource: TemplateResource, index: TemplateIndex, app: AppFacts): string[];
}

/**
 * A rule of your own, in any jsii language: what {@link RegistryGuardRule} is to TypeScript, for Python,
 * Java and .NET, which cannot express its readonly `resourceTypes`. Run it with `TemplateChecks.checkTemplate`;
 * in TypeScript it is also a `RegistryGuardRule`, so `checkTemplate` runs it too.
 *
 * @example
 * class NamedBucket implements IRegistryGuardRule {
 *   readonly name = 'S3RegistryNamedBucket';
 *   readonly level = RuleLevel.WARNING;
 *   readonly resourceTypes = ['AWS::S3::Bucket'];
 *   readonly info = 'The bucket has a fixed name.';
 *   readonly explanation = 'A fixed name tells anyone scanning bucket names where the registry is.';
 *   check(resource: TemplateResource): string[] {
 *     return resource.properties.BucketName === undefined ? [] : ['remove BucketName'];
 *   }
 * }
 */
export interface IRegistryGuardRule {
  /** The name after `RegistryGuard-`: stable, users acknowledge by it. */
  readonly name: string;
  /** How serious its findings are. */
  readonly level: RuleLevel;
  /** CloudFormation resource types the rule looks at. */
  readonly resourceTypes: string[];
  /** One line: what is wrong when the rule fires. */
  readonly info: string;
  /** Why it matters and how to fix it. */
  readonly explanation: string;
  /**
   * The problems found on one resource, each a sentence naming what to fix; empty when it complies.
   * Only called for resources of `resourceTypes`.
   *
   * @param resource the resource to judge
   * @param index the whole template, indexed
   * @param app facts about the app the template belongs to
   */
  check(resource: TemplateResource, index: ITemplateIndex, app: IAppFacts): string[];
}

/** The full id users see and acknowledge: `RegistryGuard-S3PublicPolicy`. */
export function ruleId(rule: RegistryGuardRule): string {
  return `${PACK_NAME}-${rule.name}`;
}
