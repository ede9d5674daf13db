import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ElectoralRollStack } from '../lib/example/electoral-roll-stack';
import { checkCdkOut } from './support/check-cdk-out';
import { RegistryGuardChecks } from '../rules/registry-guard-checks';
import { cfnLint } from './support/cfn-lint';

/** The example app as bin/app.ts builds it, synthesized into a temporary cloud assembly. */
function synthesizeExampleApp(): { app: App; outdir: string; registryGuard: RegistryGuardChecks } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-app-'));
  const app = new App({ outdir });
  new ElectoralRollStack(app, 'ElectoralRoll');
  const registryGuard = new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(registryGuard, new AwsSolutionsChecks(app));
  app.synth();
  return { app, outdir, registryGuard };
}

describe('the example app', () => {
  const { app, outdir, registryGuard } = synthesizeExampleApp();

  test('passes RegistryGuardChecks and AwsSolutionsChecks with zero unacknowledged findings', () => {
    expect(registryGuard.validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  test('every acknowledgement carries a reason', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'ElectoralRoll.template.json'), 'utf8'));
    const acknowledgements = Object.values(
      template.Resources as Record<string, { Metadata?: Record<string, unknown> }>,
    ).flatMap(
      (resource) =>
        (resource.Metadata?.cdk_nag as { rules_to_suppress?: { id: string; reason: string }[] })
          ?.rules_to_suppress ?? [],
    );
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const acknowledgement of acknowledgements) expect(acknowledgement.reason.length).toBeGreaterThan(20);
  });

  test('registry-guard check on its cdk.out agrees: exit 0, no finding', () => {
    const { code, report } = checkCdkOut(outdir);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
  });

  test('every synthesized template passes the real cfn-lint', () => {
    const templates = fs.readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
    expect(templates.length).toBeGreaterThan(0);
    expect(cfnLint(templates.map((file) => path.join(outdir, file))).errors).toEqual([]);
  });
});
