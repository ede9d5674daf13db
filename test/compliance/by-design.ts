/**
 * The reviewed list of by-design exceptions to the rule suites auditors run, read from its one source, the
 * table in docs/rules.md, and the comparison of what a suite found against it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { ElectoralRollStack } from '../../lib/example/electoral-roll-stack';
import { OrganizationGuardrails } from '../../lib/organization/organization-guardrails';
import { WITHOUT_BUILTIN_VALIDATION } from '../support/nag';

/** Which suite a row of the table belongs to. */
export type Suite = 'Control Tower' | 'cdk-nag';

/** One row of the table: a check that a kind of resource fails on purpose, and why. */
export interface ByDesignException {
  readonly suite: Suite;
  /** `CT.S3.PR.4`, or for cdk-nag the rule name shared by the three packs (`LambdaInsideVPC`). */
  readonly check: string;
  readonly resource: string;
  readonly reason: string;
}

/** One finding of a suite: the check that failed and the construct path of the resource it failed on. */
export interface Finding {
  readonly check: string;
  readonly constructPath: string;
}

/**
 * The kinds of resource the table may name, by construct path. Kept narrow: a kind covers the resources the
 * reason is about and nothing else, so a new resource with the same finding is not excused by accident.
 */
const BUCKET_KINDS = {
  'registry bucket': /^(?!.*\/PublicAccessGuard\/).*\/Bucket\/Resource$/,
  'evidence bucket': /\/PublicAccessGuard\/Evidence\/Bucket\/Resource$/,
  'server-access-log bucket': /\/(AccessLogs|AssetAccessLogs)\/Resource$/,
  'hub asset bucket': /\/Hub\/Assets\/Resource$/,
};
export const RESOURCE_KINDS: Readonly<Record<string, RegExp>> = {
  ...BUCKET_KINDS,
  'every bucket': new RegExp(
    Object.values(BUCKET_KINDS)
      .map((pattern) => `(${pattern.source})`)
      .join('|'),
  ),
  'guard function': /\/PublicAccessGuard\/Handler\/Resource$/,
  'guard Config permission': /\/PublicAccessGuard\/ConfigInvokePermission$/,
  'dead-letter queue': /\/PublicAccessGuard\/DeadLetters\/Resource$/,
  'role policy': /\/DefaultPolicy\/Resource$/,
  'asset-copy function': /\/Custom::CDKBucketDeployment[0-9A-Fa-f]+\/Resource$/,
};

const RULES_MD = path.join(__dirname, '..', '..', 'docs', 'rules.md');
const SECTION = '## Controls auditors run: by-design exceptions';

/** The table of the by-design section of docs/rules.md, one entry per row. */
export function readByDesignExceptions(): ByDesignException[] {
  const reference = fs.readFileSync(RULES_MD, 'utf8');
  const start = reference.indexOf(SECTION);
  if (start < 0) throw new Error(`docs/rules.md: no section '${SECTION}'`);
  const section = reference.slice(start + SECTION.length).split(/\n## /)[0];
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter(([suite]) => suite === 'Control Tower' || suite === 'cdk-nag')
    .map(([suite, check, resource, reason]) => {
      if (RESOURCE_KINDS[resource] === undefined) {
        throw new Error(
          `docs/rules.md: '${resource}' is not a resource kind test/compliance knows: ${Object.keys(RESOURCE_KINDS).join(', ')}`,
        );
      }
      return { suite: suite as Suite, check: check.replace(/`/g, ''), resource, reason };
    });
}

/** The rule name of a cdk-nag finding without its pack: `HIPAA.Security-LambdaDLQ` → `LambdaDLQ`. */
function nagRuleName(ruleId: string): string {
  return ruleId.slice(ruleId.indexOf('-') + 1);
}

function excuses(exception: ByDesignException, finding: Finding): boolean {
  const check = exception.suite === 'cdk-nag' ? nagRuleName(finding.check) : finding.check;
  return check === exception.check && RESOURCE_KINDS[exception.resource].test(finding.constructPath);
}

/** What a suite found beyond the table, and the rows of the table it found nothing for. */
export interface Comparison {
  readonly unexcused: string[];
  readonly unused: string[];
}

/**
 * Compares a suite's findings over all the apps it ran on with the table's rows of that suite.
 *
 * @example
 * expect(compareWithExceptions('cdk-nag', findings)).toEqual({ unexcused: [], unused: [] });
 */
export function compareWithExceptions(suite: Suite, findings: readonly Finding[]): Comparison {
  const exceptions = readByDesignExceptions().filter((exception) => exception.suite === suite);
  const unexcused = findings
    .filter((finding) => !exceptions.some((exception) => excuses(exception, finding)))
    .map((finding) => `${finding.check} ${finding.constructPath}`);
  const unused = exceptions
    .filter((exception) => !findings.some((finding) => excuses(exception, finding)))
    .map((exception) => `${exception.check} on ${exception.resource}`);
  return { unexcused: [...new Set(unexcused)].sort(), unused: unused.sort() };
}

/** A synthesized app and its cloud assembly directory. */
export interface SynthesizedApp {
  readonly name: string;
  readonly app: App;
  readonly outdir: string;
}

function newApp(prefix: string): { app: App; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // CDK's own CloudFormation validation is not what these tests check, and it costs seconds.
  return { app: new App({ outdir, ...WITHOUT_BUILTIN_VALIDATION }), outdir };
}

/** The example app as bin/app.ts builds it, synthesized into a temporary cloud assembly. */
export function synthesizeExampleApp(): SynthesizedApp {
  const { app, outdir } = newApp('registry-guard-compliance-example-');
  new ElectoralRollStack(app, 'ElectoralRoll');
  app.synth();
  return { name: 'example', app, outdir };
}

/** The organization app as bin/organization.ts builds it, synthesized into a temporary cloud assembly. */
export function synthesizeOrganizationApp(): SynthesizedApp {
  const { app, outdir } = newApp('registry-guard-compliance-organization-');
  const stack = new Stack(app, 'RegistryGuardOrganization', {
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  new OrganizationGuardrails(stack, 'Guardrails', {
    organizationId: 'o-exampleorg1',
    organizationalUnits: ['ou-exam-11111111', 'ou-exam-22222222'],
    regions: ['eu-west-1', 'eu-central-1'],
  });
  app.synth();
  return { name: 'organization', app, outdir };
}

/** `<template file>/<logical id>` → construct path, for every CloudFormation resource of the app. */
export function constructPathsByTemplateResource(app: App): Map<string, string> {
  const paths = new Map<string, string>();
  for (const construct of app.node.findAll()) {
    if (CfnResource.isCfnResource(construct)) {
      const templateFile = path.basename(Stack.of(construct).templateFile);
      // The id the template really has: overrideLogicalId applied.
      const logicalId = String(Stack.of(construct).resolve(construct.logicalId));
      paths.set(`${templateFile}/${logicalId}`, construct.node.path);
    }
  }
  return paths;
}

/** Deletes a temporary cloud assembly. */
export function removeOutdir(outdir: string): void {
  fs.rmSync(outdir, { recursive: true, force: true });
}
