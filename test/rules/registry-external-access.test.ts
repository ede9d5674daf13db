import * as fs from 'fs';
import * as path from 'path';
import { App, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { TRUSTED_ACCOUNTS_METADATA_KEY } from '../../lib/classification';
import { SensitiveRegistryBucket, SensitiveRegistryBucketProps } from '../../lib/sensitive-registry-bucket';
import { checkTemplate } from '../../rules/check-template';
import { runCliCapturing, tempDirectory } from '../support/cli';
import { violationsOf } from '../support/nag';
import { validationErrorOf } from '../support/validation-error';

const RULE = 'RegistryGuard-S3RegistryExternalAccess';
const OUTSIDER_ROOT = 'arn:aws:iam::999988887777:root';
const ORGANIZATION = 'o-a1b2c3d4e5';

/** The grant of issue 16: a registry shared with the root of an account outside its zone. */
function outsiderRead(conditions?: Record<string, unknown>): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'PartnerRead',
    principals: [new iam.ArnPrincipal(OUTSIDER_ROOT)],
    actions: ['s3:GetObject'],
    resources: ['*'],
    conditions,
  });
}

function registryStack(props: SensitiveRegistryBucketProps = {}): {
  app: App;
  stack: Stack;
  registry: SensitiveRegistryBucket;
} {
  const app = new App();
  const stack = new Stack(app, 'Test');
  // These tests are about external access; the drift guard has tests of its own.
  Validations.of(stack).acknowledge({ id: 'RegistryGuard-S3DriftGuard', reason: 'Tested on its own.' });
  const registry = new SensitiveRegistryBucket(stack, 'Roll', props);
  return { app, stack, registry };
}

function bucketLogicalId(stack: Stack, registry: SensitiveRegistryBucket): string {
  return stack.getLogicalId(registry.bucket.node.defaultChild as s3.CfnBucket);
}

/** Runs `registry-guard check --format json` on the stack's synthesized template. */
function cliFindings(stack: Stack): { ruleId: string; resource: string; message: string }[] {
  const directory = tempDirectory('external-access');
  try {
    const file = path.join(directory, 'Test.template.json');
    fs.writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON()));
    const result = runCliCapturing(['check', file, '--format', 'json']);
    return JSON.parse(result.stdout).findings;
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

describe('RegistryGuard-S3RegistryExternalAccess', () => {
  test('Noncompliance 1: a registry bucket policy granting the root of another account (issue 16)', () => {
    const { app, stack, registry } = registryStack();
    registry.bucket.addToResourcePolicy(outsiderRead());
    const bucketId = bucketLogicalId(stack, registry);
    expect(violationsOf(app)).toEqual([`${RULE}@${bucketId}`]);
    const findings = cliFindings(stack).filter((finding) => finding.ruleId === RULE);
    expect(findings).toEqual([expect.objectContaining({ ruleId: RULE, resource: bucketId })]);
    expect(findings[0].message).toMatch(/Sid "PartnerRead".*999988887777, outside the zone of trust/);
  });

  test('Compliance: the same grant confined by aws:PrincipalOrgID of the registry organization', () => {
    const { app, registry } = registryStack({ allowedOrganizationId: ORGANIZATION });
    registry.bucket.addToResourcePolicy(
      outsiderRead({ StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION } }),
    );
    expect(violationsOf(app)).toEqual([]);
  });

  test('Noncompliance 2: the grant confined to an organization that is not the registry one', () => {
    const { app, stack, registry } = registryStack({ allowedOrganizationId: ORGANIZATION });
    registry.bucket.addToResourcePolicy(
      outsiderRead({ StringEquals: { 'aws:PrincipalOrgID': 'o-z9y8x7w6v5' } }),
    );
    expect(violationsOf(app)).toEqual([`${RULE}@${bucketLogicalId(stack, registry)}`]);
  });

  test('Noncompliance 3: aws:PrincipalOrgID alone trusts no organization when the registry has no fence', () => {
    const { app, stack, registry } = registryStack();
    registry.bucket.addToResourcePolicy(
      outsiderRead({ StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION } }),
    );
    expect(violationsOf(app)).toEqual([`${RULE}@${bucketLogicalId(stack, registry)}`]);
  });

  test('Compliance: an account listed in trustedAccountIds, recorded in the bucket metadata', () => {
    const { app, stack, registry } = registryStack({ trustedAccountIds: ['999988887777'] });
    registry.bucket.addToResourcePolicy(outsiderRead());
    expect(violationsOf(app)).toEqual([]);
    const bucket = Template.fromStack(stack).toJSON().Resources[bucketLogicalId(stack, registry)];
    expect(bucket.Metadata[TRUSTED_ACCOUNTS_METADATA_KEY]).toEqual(['999988887777']);
  });

  test('Compliance: grants to the registry own account and its roles', () => {
    const { app, stack, registry } = registryStack();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    registry.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AccountRootPrincipal(), new iam.ArnPrincipal(reader.roleArn)],
        actions: ['s3:GetObject'],
        resources: [registry.bucket.arnForObjects('*')],
      }),
    );
    expect(violationsOf(app)).toEqual([]);
  });

  test('a stack bound to an account trusts that account, which CDK renders literally', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
    Validations.of(stack).acknowledge({ id: 'RegistryGuard-S3DriftGuard', reason: 'Tested on its own.' });
    const registry = new SensitiveRegistryBucket(stack, 'Roll');
    registry.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AccountRootPrincipal()],
        actions: ['s3:GetObject'],
        resources: [registry.bucket.arnForObjects('*')],
      }),
    );
    expect(violationsOf(app)).toEqual([]);
  });

  test('an ordinary bucket granting another account is not this rule concern', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const bucket = new s3.Bucket(stack, 'Ordinary', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
    });
    bucket.addToResourcePolicy(outsiderRead());
    const findings = checkTemplate(Template.fromStack(stack).toJSON());
    expect(findings.map((finding) => finding.ruleId)).not.toContain(RULE);
    expect(violationsOf(app).filter((violation) => violation.startsWith(RULE))).toEqual([]);
  });

  test('Noncompliance 4: an access point on a registry bucket granting another account', () => {
    const { app, stack, registry } = registryStack();
    const accessPoint = new s3.CfnAccessPoint(stack, 'PartnerPoint', {
      bucket: registry.bucket.bucketName,
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: OUTSIDER_ROOT },
            Action: 's3:GetObject',
            Resource: {
              'Fn::Sub':
                'arn:${AWS::Partition}:s3:${AWS::Region}:${AWS::AccountId}:accesspoint/partner/object/*',
            },
          },
        ],
      },
    });
    const accessPointId = stack.getLogicalId(accessPoint);
    expect(violationsOf(app)).toEqual([`${RULE}@${accessPointId}`]);
    expect(cliFindings(stack).filter((finding) => finding.ruleId === RULE)).toEqual([
      expect.objectContaining({
        resource: accessPointId,
        message: expect.stringMatching(/access point policy/i),
      }),
    ]);
  });

  test('Compliance: an access point on a registry bucket granting a role of the registry account', () => {
    const { app, stack, registry } = registryStack();
    new s3.CfnAccessPoint(stack, 'ReaderPoint', {
      bucket: registry.bucket.bucketName,
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: {
              AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/registry-reader' },
            },
            Action: 's3:GetObject',
            Resource: '*',
          },
        ],
      },
    });
    expect(violationsOf(app)).toEqual([]);
  });

  // Issue 17: an external-access finding on a registry cannot be acknowledged; trustedAccountIds declares a share.
  test('an acknowledgement does not accept a share outside the zone: the finding says to use trustedAccountIds', () => {
    const { app, stack, registry } = registryStack();
    registry.bucket.addToResourcePolicy(outsiderRead());
    Validations.of(registry).acknowledge({
      id: RULE,
      reason: 'The statistics office reads the roll under agreement 2026-14.',
    });
    expect(violationsOf(app)).toEqual([`${RULE}@${bucketLogicalId(stack, registry)}`]);
    expect(cliFindings(stack).find((finding) => finding.ruleId === RULE)?.message).toMatch(
      /cannot be acknowledged on a registry bucket.*trustedAccountIds/,
    );
  });
});

describe('SensitiveRegistryBucket trustedAccountIds', () => {
  test.each([
    ['an id that is not 12 digits', ['99998888777'], /'99998888777' is not an AWS account id/],
    [
      'a token the template checkers cannot read',
      [Lazy.string({ produce: () => '999988887777' })],
      /resolved at deploy time/,
    ],
  ])('refuses %s, naming the prop', (_name, trustedAccountIds, message) => {
    const stack = new Stack(new App(), 'Test');
    const error = validationErrorOf(() => new SensitiveRegistryBucket(stack, 'Roll', { trustedAccountIds }));
    expect(error.message).toMatch(/trustedAccountIds is refused/);
    expect(error.message).toMatch(message);
  });

  test('writes no metadata when the zone is the account alone', () => {
    const { stack, registry } = registryStack();
    const bucket = Template.fromStack(stack).toJSON().Resources[bucketLogicalId(stack, registry)];
    expect(bucket.Metadata?.[TRUSTED_ACCOUNTS_METADATA_KEY]).toBeUndefined();
  });
});
