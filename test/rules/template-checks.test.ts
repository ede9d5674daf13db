/**
 * TemplateChecks: `checkTemplate` for every jsii language, running rules written against IRegistryGuardRule
 * (a class, as Python, Java and C# write them) beside the pack's.
 */
import { checkTemplate } from '../../rules/check-template';
import { REGISTRY_GUARD_RULES } from '../../rules/all-rules';
import { IAppFacts, IRegistryGuardRule, RegistryGuardRule, RuleLevel, ruleId } from '../../rules/rule';
import { TemplateChecks } from '../../rules/template-checks';
import { ITemplateIndex, TemplateResource } from '../../rules/template-model';

/** Warns about a bucket with a fixed name, and records what it was given. */
class NamedBucket implements IRegistryGuardRule {
  readonly name = 'S3RegistryNamedBucket';
  readonly level = RuleLevel.WARNING;
  readonly resourceTypes = ['AWS::S3::Bucket'];
  readonly info = 'The bucket has a fixed name.';
  readonly explanation = 'A fixed name tells anyone scanning bucket names where the registry is.';
  readonly seen: { resource: string; type: string | undefined; guarded: boolean }[] = [];

  check(resource: TemplateResource, index: ITemplateIndex, app: IAppFacts): string[] {
    this.seen.push({
      resource: resource.logicalId,
      type: index.resourceTypeOf(resource.logicalId),
      guarded: app.hasPublicAccessGuard,
    });
    return resource.properties.BucketName === undefined ? [] : ['remove BucketName'];
  }
}

const TEMPLATE = {
  Resources: {
    Roll: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'voter-roll-2026' } },
    Topic: { Type: 'AWS::SNS::Topic' },
  },
};

describe('TemplateChecks', () => {
  test("runs a rule of your own after the pack's, as checkTemplate does", () => {
    const rule = new NamedBucket();
    const findings = TemplateChecks.checkTemplate(TEMPLATE, { rules: [rule] });
    expect(findings).toEqual(
      checkTemplate(TEMPLATE, { rules: [...REGISTRY_GUARD_RULES, new NamedBucket()] }),
    );
    expect(findings.map((finding) => finding.ruleId)).toContain('RegistryGuard-S3RegistryNamedBucket');
    expect(findings.some((finding) => finding.ruleId === 'RegistryGuard-S3PublicAcl')).toBe(false);
    expect(rule.seen).toEqual([{ resource: 'Roll', type: 'AWS::S3::Bucket', guarded: false }]);
  });

  test('with packRules false, runs only your rules, with the app facts given', () => {
    const rule = new NamedBucket();
    const findings = TemplateChecks.checkTemplate(TEMPLATE, {
      rules: [rule],
      packRules: false,
      app: { hasPublicAccessGuard: true },
    });
    expect(findings).toEqual([
      {
        ruleId: 'RegistryGuard-S3RegistryNamedBucket',
        level: RuleLevel.WARNING,
        resource: 'Roll',
        resourceType: 'AWS::S3::Bucket',
        message: 'The bucket has a fixed name. Remove BucketName.',
      },
    ]);
    expect(rule.seen[0].guarded).toBe(true);
  });

  test("lists the pack's rule ids", () => {
    expect(TemplateChecks.packRuleIds()).toEqual(REGISTRY_GUARD_RULES.map(ruleId));
  });

  test('a rule written for jsii is a RegistryGuardRule to TypeScript', () => {
    // Compiles only while IRegistryGuardRule stays assignable to RegistryGuardRule.
    const asTypeScriptRule: RegistryGuardRule = new NamedBucket();
    expect(checkTemplate(TEMPLATE, { rules: [asTypeScriptRule] })).toHaveLength(1);
  });
});
