import * as fs from 'fs';
import * as path from 'path';
import {
  compareWithExceptions,
  constructPathsByTemplateResource,
  Finding,
  removeOutdir,
  synthesizeExampleApp,
  synthesizeOrganizationApp,
  SynthesizedApp,
} from './by-design';
import { ControlFailure, CONTROL_TOWER_RULES, runControlTowerRules } from './control-tower';

/** Every template of a cloud assembly (StackSet templates included). */
function templatesOf(outdir: string): string[] {
  return fs
    .readdirSync(outdir)
    .filter((file) => file.endsWith('.template.json'))
    .map((file) => path.join(outdir, file));
}

/** The failures of one app as findings on construct paths, so the table can name kinds of resource. */
function findingsOf(synthesized: SynthesizedApp, failures: readonly ControlFailure[]): Finding[] {
  const constructPaths = constructPathsByTemplateResource(synthesized.app);
  return failures.map((failure) => ({
    check: failure.control,
    constructPath:
      constructPaths.get(`${failure.templateFile}/${failure.logicalId}`) ??
      `${synthesized.name}:${failure.templateFile}/${failure.logicalId}`,
  }));
}

describe('AWS Control Tower proactive controls (cfn-guard) on the example and organization apps', () => {
  const apps = [synthesizeExampleApp(), synthesizeOrganizationApp()];
  const templates = apps.map((synthesized) => templatesOf(synthesized.outdir));
  // One cfn-guard run for every template of both apps: starting it and parsing the rules dominates.
  const failures = runControlTowerRules(templates.flat());
  const findings = apps.flatMap((synthesized, index) => {
    const ownTemplates = new Set(templates[index].map((template) => path.basename(template)));
    return findingsOf(
      synthesized,
      failures.filter((failure) => ownTemplates.has(failure.templateFile)),
    );
  });
  afterAll(() => apps.forEach((synthesized) => removeOutdir(synthesized.outdir)));

  test('the rules ran: every template was checked against more than a hundred controls', () => {
    const ruleFiles = fs
      .readdirSync(CONTROL_TOWER_RULES, { recursive: true })
      .filter((file) => String(file).endsWith('.guard'));
    expect(ruleFiles.length).toBeGreaterThan(100);
    // The example stack; the organization stack, its other Region's hub and the StackSet template.
    expect(templates.flat().length).toBe(4);
  });

  test('every failure is a reviewed by-design exception, and every exception still occurs', () => {
    expect(compareWithExceptions('Control Tower', findings)).toEqual({ unexcused: [], unused: [] });
  });

  test.each([
    ['CT.KMS.PR.3', 'keys limit grants to AWS services'],
    ['CT.KMS.PR.1', 'keys rotate'],
    ['CT.CLOUDWATCH.PR.3', "the guard's log group is encrypted with a customer key"],
    ['CT.SQS.PR.1', 'the sweep queue has a dead-letter queue, which accepts the sweep queue alone'],
    ['CT.SQS.PR.2', 'the dead-letter and sweep queues are encrypted'],
  ])('no resource fails %s: %s', (control) => {
    expect(findings.filter((finding) => finding.check === control)).toEqual([]);
  });

  test('every key the kit creates is used only through the service it exists for', () => {
    const keys = templates.flat().flatMap((template) => {
      const resources = JSON.parse(fs.readFileSync(template, 'utf8')).Resources as Record<
        string,
        { Type: string; Properties: { KeyPolicy: { Statement: { Sid?: string; Condition?: unknown }[] } } }
      >;
      return Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::KMS::Key');
    });
    // The registry, evidence and topic keys, the log group's and the dead-letter queue's, in both apps.
    expect(keys.length).toBeGreaterThanOrEqual(10);
    for (const [logicalId, key] of keys) {
      const viaServices = key.Properties.KeyPolicy.Statement.find(
        (statement) => statement.Sid === 'DenyUseExceptThroughServices',
      );
      expect({ logicalId, condition: JSON.stringify(viaServices?.Condition) }).toEqual({
        logicalId,
        condition: expect.stringMatching(/"kms:ViaService":\[\{"Fn::Join":\["",\["(s3|sns|sqs|logs)\./),
      });
    }
  });

  test('the evidence bucket passes CT.S3.PR.9: it has Object Lock', () => {
    const evidence = findings.filter((finding) =>
      /\/Evidence\/Bucket\/Resource$/.test(finding.constructPath),
    );
    expect(evidence.map((finding) => finding.check)).not.toContain('CT.S3.PR.9');
  });
});
