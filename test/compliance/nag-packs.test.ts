import { HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import {
  compareWithExceptions,
  Finding,
  removeOutdir,
  synthesizeExampleApp,
  synthesizeOrganizationApp,
  SynthesizedApp,
} from './by-design';

/** What a pack reports on an app, acknowledgements applied, as findings on construct paths. */
function findingsOf(pack: NagPack, synthesized: SynthesizedApp): Finding[] {
  return pack.validateScope(synthesized.app).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      check: violation.ruleName,
      constructPath: resource.constructPath ?? `${synthesized.name}:${resource.resourceLogicalId}`,
    })),
  );
}

describe("cdk-nag's HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1 packs on the example and organization apps", () => {
  const apps = [synthesizeExampleApp(), synthesizeOrganizationApp()];
  const packs: NagPack[] = [new HIPAASecurityChecks(), new NIST80053R5Checks(), new PCIDSS321Checks()];
  const findingsByPack = new Map(
    packs.map((pack) => [pack, apps.flatMap((synthesized) => findingsOf(pack, synthesized))]),
  );
  afterAll(() => apps.forEach((synthesized) => removeOutdir(synthesized.outdir)));

  test('every finding of every pack is a reviewed by-design exception, and every exception still occurs', () => {
    expect(compareWithExceptions('cdk-nag', [...findingsByPack.values()].flat())).toEqual({
      unexcused: [],
      unused: [],
    });
  });

  test.each(packs.map((pack) => [pack.constructor.name, pack]))(
    '%s: the guard log group is encrypted and the hub asset buckets log their reads',
    (_name, pack) => {
      const findings = findingsByPack.get(pack) ?? [];
      expect(findings.length).toBeGreaterThan(0);
      expect(
        findings.filter((finding) =>
          /-(CloudWatchLogGroupEncrypted|S3BucketLoggingEnabled)$/.test(finding.check),
        ),
      ).toEqual([]);
    },
  );
});
