/**
 * `securityHubFindings` on the construct: the function's environment and the role's statements with it on
 * and off, in both modes, and the stack still passing AwsSolutions, RegistryGuardChecks and cfn-lint.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { spawnSync } from 'child_process';
import { EVIDENCE_PREFIXES, GUARD_ENVIRONMENT, GuardMode } from '../../lib/guard-facts';
import {
  HANDLER_BUNDLE_FILE,
  handlerCodeDirectory,
  SECURITY_HUB_BUNDLE_FILE,
} from '../../lib/guard/handler-bundle';
import { OrganizationGuardrails } from '../../lib/organization/organization-guardrails';
import { PublicAccessGuard, PublicAccessGuardProps } from '../../lib/public-access-guard';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { cfnLint } from '../support/cfn-lint';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string>>;
}

function synthesize(props: PublicAccessGuardProps): { app: App; stack: Stack; guard: PublicAccessGuard } {
  const app = new App();
  const stack = new Stack(app, 'Guard');
  const guard = new PublicAccessGuard(stack, 'Guard', props);
  return { app, stack, guard };
}

/** Every statement of the role's policies, across the template. */
function roleStatements(stack: Stack | Template): Statement[] {
  const template = stack instanceof Template ? stack : Template.fromStack(stack);
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap(
    (policy) => (policy.Properties.PolicyDocument.Statement ?? []) as Statement[],
  );
}

function actionsOf(statement: Statement): string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

function securityHubActions(stack: Stack | Template): string[] {
  return roleStatements(stack)
    .flatMap(actionsOf)
    .filter((action) => action.startsWith('securityhub:'))
    .sort();
}

/** The partition, Region and account as the template writes them in an ARN. */
const arnOf = (resource: unknown[]): unknown => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':securityhub:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ...resource,
    ],
  ],
});

describe('securityHubFindings off (the default)', () => {
  const { stack } = synthesize({});

  test('no Security Hub action, no variable', () => {
    expect(securityHubActions(stack)).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.not(Match.objectLike({ [GUARD_ENVIRONMENT.securityHubFindings]: Match.anyValue() })),
      },
    });
  });

  test('nothing under the open-findings prefix is readable or deletable', () => {
    const template = JSON.stringify(roleStatements(stack));
    expect(template).not.toContain(EVIDENCE_PREFIXES.securityHubFindings);
  });
});

describe('securityHubFindings on, remediate mode', () => {
  const { app, stack, guard } = synthesize({ securityHubFindings: true });
  const statements = roleStatements(stack);
  const bySid = (sid: string): Statement | undefined => statements.find((statement) => statement.Sid === sid);

  test('the function is told to send findings', () => {
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [GUARD_ENVIRONMENT.securityHubFindings]: 'true' }) },
    });
  });

  test('BatchImportFindings only on the account’s default product, for its own account', () => {
    expect(bySid('ImportSecurityHubFindings')).toEqual({
      Sid: 'ImportSecurityHubFindings',
      Effect: 'Allow',
      Action: 'securityhub:BatchImportFindings',
      Resource: arnOf([':product/', { Ref: 'AWS::AccountId' }, '/default']),
      Condition: { StringEquals: { 'securityhub:TargetAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  test('BatchUpdateFindings only on the account’s hub, only to set the workflow to RESOLVED, and no other field but the note', () => {
    const resolve = bySid('ResolveSecurityHubFindings');
    expect(resolve).toMatchObject({
      Effect: 'Allow',
      Action: 'securityhub:BatchUpdateFindings',
      Resource: arnOf([':hub/default']),
      Condition: { StringEquals: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'RESOLVED' } },
    });
    const mustBeAbsent = Object.entries(resolve?.Condition?.Null ?? {})
      .filter(([, value]) => value === 'true')
      .map(([key]) => key.replace('securityhub:ASFFSyntaxPath/', ''));
    expect(mustBeAbsent).toEqual(
      expect.arrayContaining(['Severity.Label', 'Types', 'VerificationState', 'Criticality']),
    );
    expect(mustBeAbsent).not.toContain('Workflow.Status');
    expect(mustBeAbsent).not.toContain('Note.Text');
  });

  test('the open-finding records: read and deleted under their prefix only', () => {
    const evidence = guard.evidenceBucket.bucket.node.defaultChild as CfnElement;
    const evidenceId = Stack.of(evidence).getLogicalId(evidence);
    expect(bySid('TrackSecurityHubFindings')).toEqual({
      Sid: 'TrackSecurityHubFindings',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:DeleteObject'],
      Resource: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [evidenceId, 'Arn'] }, `/${EVIDENCE_PREFIXES.securityHubFindings}*`],
        ],
      },
    });
  });

  test('no other Security Hub action, and none on a wildcard resource', () => {
    expect(securityHubActions(stack)).toEqual([
      'securityhub:BatchImportFindings',
      'securityhub:BatchUpdateFindings',
    ]);
    const onWildcard = statements.filter(
      (statement) =>
        actionsOf(statement).some((action) => action.startsWith('securityhub:')) &&
        statement.Resource === '*',
    );
    expect(onWildcard).toEqual([]);
  });

  test('passes AwsSolutionsChecks and RegistryGuardChecks', () => {
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  test('cfn-lint finds no error in the template', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-security-hub-'));
    try {
      const lintApp = new App({ outdir });
      new PublicAccessGuard(new Stack(lintApp, 'Guard'), 'Guard', { securityHubFindings: true });
      const assembly = lintApp.synth();
      const templates = assembly.stacks.map((candidate) =>
        path.join(assembly.directory, candidate.templateFile),
      );
      expect(cfnLint(templates).errors).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('securityHubFindings on, report mode', () => {
  const { app, stack } = synthesize({ securityHubFindings: true, mode: GuardMode.REPORT });

  test('imports only: no workflow change and no write or delete in the evidence bucket', () => {
    expect(securityHubActions(stack)).toEqual(['securityhub:BatchImportFindings']);
    const actions = roleStatements(stack).flatMap(actionsOf);
    expect(actions).not.toContain('s3:DeleteObject');
    expect(actions).not.toContain('s3:PutObject');
  });

  test('passes AwsSolutionsChecks and RegistryGuardChecks', () => {
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });
});

describe('in an organization', () => {
  test('the member accounts’ guard takes the option like any other', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-security-hub-org-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Management', { env: { account: '111111111111', region: 'eu-west-1' } });
      const guardrails = new OrganizationGuardrails(stack, 'Guardrails', {
        organizationId: 'o-abcdefghij',
        organizationalUnits: ['ou-abcd-12345678'],
        regions: ['eu-west-1'],
        guard: { securityHubFindings: true },
      });
      app.synth();
      // The member stack is a StackSet's template, written beside the management stack's.
      const member = Template.fromJSON(
        JSON.parse(fs.readFileSync(path.join(outdir, guardrails.memberStack.templateFile), 'utf8')),
      );
      expect(securityHubActions(member)).toEqual([
        'securityhub:BatchImportFindings',
        'securityhub:BatchUpdateFindings',
      ]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('the function’s code', () => {
  const directory = handlerCodeDirectory();

  test('keeps Security Hub’s SDK out of index.js, in a file of its own that index.js requires by name', () => {
    expect(fs.readdirSync(directory).sort()).toEqual([HANDLER_BUNDLE_FILE, SECURITY_HUB_BUNDLE_FILE].sort());
    const handler = fs.readFileSync(path.join(directory, HANDLER_BUNDLE_FILE), 'utf8');
    // One require, from sdk/on-demand.ts: nothing else of the guard was left out of the bundle by the name.
    expect(handler.match(/require\("\.\/security-hub-sdk"\)/g)).toHaveLength(1);
    // The SDK's models name each shape: none is in index.js, all are in the SDK file.
    const sdk = fs.readFileSync(path.join(directory, SECURITY_HUB_BUNDLE_FILE), 'utf8');
    for (const shape of ['AwsSecurityFindingList', 'AwsS3BucketDetails']) {
      expect([shape, handler.includes(shape), sdk.includes(shape)]).toEqual([shape, false, true]);
    }
  });

  test('the SDK file loads alone, as Lambda loads it beside index.js', () => {
    const load = spawnSync(
      process.execPath,
      [
        '-e',
        `const sdk = require(${JSON.stringify(path.join(directory, SECURITY_HUB_BUNDLE_FILE))});` +
          "for (const name of ['SecurityHubClient', 'BatchImportFindingsCommand', 'BatchUpdateFindingsCommand'])" +
          "  if (typeof sdk[name] !== 'function') { console.error(name); process.exit(2); }",
      ],
      { encoding: 'utf8', cwd: os.tmpdir() },
    );
    expect(load.stderr.split('\n').filter((line) => /^[A-Z][A-Za-z]+$/.test(line))).toEqual([]);
    expect(load.status).toBe(0);
  });
});
