import { App, CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE } from '../../lib/classification';
import { SensitiveRegistryBucket } from '../../lib/sensitive-registry-bucket';
import { checkTemplate } from '../../rules/check-template';
import {
  cliTemplateViolations,
  newGuardedApp,
  packTemplateViolations,
  removeOutdir,
  templateLogicalId,
  violationsOf,
} from '../support/nag';

const RULE = 'RegistryGuard-S3RegistryCdnOrigin';

/** A stack whose drift-guard warning is acknowledged: these tests are about the CDN rule. */
function newStack(app: App): Stack {
  const stack = new Stack(app, 'Test');
  Validations.of(stack).acknowledge({
    id: 'RegistryGuard-S3DriftGuard',
    reason: 'CDN rule tests: the drift guard is tested on its own.',
  });
  return stack;
}

function logicalIdOf(construct: { node: { defaultChild?: unknown } }): string {
  return templateLogicalId(construct.node.defaultChild as CfnElement);
}

/** Only this rule's violations, so the tests do not depend on the rest of the pack. */
function cdnViolations(app: App): string[] {
  return violationsOf(app).filter((violation) => violation.startsWith(`${RULE}@`));
}

function ordinaryBucket(stack: Stack, id: string): s3.Bucket {
  return new s3.Bucket(stack, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

const REGISTRY_TAGS = [{ Key: REGISTRY_CLASSIFICATION_TAG_KEY, Value: REGISTRY_CLASSIFICATION_TAG_VALUE }];

/** A hand-written template: a registry bucket and a distribution whose only origin has `domainName`. */
function distributionTemplate(
  domainName: unknown,
  options: { bucketName?: string; behaviour?: Record<string, unknown>; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Roll: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          ...(options.bucketName === undefined ? {} : { BucketName: options.bucketName }),
          Tags: REGISTRY_TAGS,
        },
      },
      Cdn: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Enabled: true,
            Origins: [{ Id: 'roll', DomainName: domainName, S3OriginConfig: { OriginAccessIdentity: '' } }],
            DefaultCacheBehavior: {
              TargetOriginId: 'roll',
              ViewerProtocolPolicy: 'redirect-to-https',
              CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
              ...options.behaviour,
            },
          },
        },
      },
      ...options.extra,
    },
  };
}

function cdnFindings(template: unknown): { resource: string; message: string }[] {
  return checkTemplate(template)
    .filter((finding) => finding.ruleId === RULE)
    .map(({ resource, message }) => ({ resource, message }));
}

describe('RegistryGuard-S3RegistryCdnOrigin', () => {
  test('Noncompliance 1: an L2 Distribution with an origin access control on a SensitiveRegistryBucket (the construct does not refuse it)', () => {
    const app = new App();
    const stack = newStack(app);
    const roll = new SensitiveRegistryBucket(stack, 'Roll');
    const cdn = new cloudfront.Distribution(stack, 'Cdn', {
      defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(roll.bucket) },
    });
    expect(cdnViolations(app)).toEqual(
      [`${RULE}@${logicalIdOf(cdn)}`, `${RULE}@${logicalIdOf(roll.bucket)}`].sort(),
    );
  });

  test('Noncompliance 2: an L2 Distribution with a legacy origin access identity', () => {
    const app = new App();
    const stack = newStack(app);
    const roll = new SensitiveRegistryBucket(stack, 'Roll');
    const cdn = new cloudfront.Distribution(stack, 'Cdn', {
      defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessIdentity(roll.bucket) },
    });
    expect(cdnViolations(app)).toEqual(
      [`${RULE}@${logicalIdOf(cdn)}`, `${RULE}@${logicalIdOf(roll.bucket)}`].sort(),
    );
  });

  test('the pack at synth and the CLI on cdk.out report both findings, and say how to restrict and acknowledge', () => {
    const { app, pack, outdir } = newGuardedApp({ failSynth: false });
    try {
      const stack = newStack(app);
      const roll = new SensitiveRegistryBucket(stack, 'Roll');
      const cdn = new cloudfront.Distribution(stack, 'Cdn', {
        defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(roll.bucket) },
      });
      const assembly = app.synth();
      const cli = cliTemplateViolations(outdir).filter((violation) => violation.startsWith(RULE));
      const fromPack = packTemplateViolations(app, pack.validateScope(app)).filter((violation) =>
        violation.startsWith(RULE),
      );
      expect(cli).toHaveLength(2);
      expect(fromPack).toEqual(cli);

      const findings = cdnFindings(assembly.getStackByName('Test').template);
      const onDistribution = findings.find(({ resource }) => resource === logicalIdOf(cdn));
      expect(onDistribution?.message).toMatch(/through an origin access control/);
      expect(onDistribution?.message).toMatch(/signed URLs or signed cookies \(TrustedKeyGroups\)/);
      expect(onDistribution?.message).toMatch(
        /acknowledge RegistryGuard-S3RegistryCdnOrigin with that reason/,
      );
      const onBucket = findings.find(({ resource }) => resource === logicalIdOf(roll.bucket));
      expect(onBucket?.message).toMatch(
        /allows cloudfront\.amazonaws\.com \(origin access control\) s3:GetObject/,
      );
    } finally {
      removeOutdir(outdir);
    }
  });

  test('Noncompliance 3: an L1 CfnDistribution whose origin is Fn::GetAtt of the registry RegionalDomainName', () => {
    const app = new App();
    const stack = newStack(app);
    const roll = new SensitiveRegistryBucket(stack, 'Roll');
    const cdn = new cloudfront.CfnDistribution(stack, 'Cdn', {
      distributionConfig: {
        enabled: true,
        origins: [{ id: 'roll', domainName: roll.bucket.bucketRegionalDomainName, s3OriginConfig: {} }],
        defaultCacheBehavior: { targetOriginId: 'roll', viewerProtocolPolicy: 'https-only' },
      },
    });
    // No grant in the registry's policy: only the distribution is reported.
    expect(cdnViolations(app)).toEqual([`${RULE}@${templateLogicalId(cdn)}`]);
  });

  test.each([
    ['a literal host of a bucket with that literal BucketName', 'roll-2026.s3.eu-west-1.amazonaws.com'],
    ['a legacy global host', 'roll-2026.s3.amazonaws.com'],
    [
      'Fn::Sub of the bucket name and an S3 endpoint',
      { 'Fn::Sub': '${Roll}.s3.${AWS::Region}.amazonaws.com' },
    ],
    ['Fn::Join of Ref and an S3 endpoint', { 'Fn::Join': ['', [{ Ref: 'Roll' }, '.s3.amazonaws.com']] }],
    ['Fn::GetAtt DomainName', { 'Fn::GetAtt': ['Roll', 'DomainName'] }],
    ['Fn::Sub of the RegionalDomainName', { 'Fn::Sub': '${Roll.RegionalDomainName}' }],
    [
      'the website host cut out of WebsiteURL',
      { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['Roll', 'WebsiteURL'] }] }] },
    ],
    [
      'one branch of Fn::If',
      { 'Fn::If': ['UseCdn', { 'Fn::GetAtt': ['Roll', 'RegionalDomainName'] }, 'example.org'] },
    ],
  ])('Noncompliance 4: an origin host that is %s', (_, domainName) => {
    const findings = cdnFindings(distributionTemplate(domainName, { bucketName: 'roll-2026' }));
    expect(findings.map(({ resource }) => resource)).toEqual(['Cdn']);
    expect(findings[0].message).toMatch(/Origin 'roll' .*is registry bucket Roll/);
  });

  test('names the Fn::If branch in which the registry is served', () => {
    const [finding] = cdnFindings(
      distributionTemplate({
        'Fn::If': ['UseCdn', { 'Fn::GetAtt': ['Roll', 'RegionalDomainName'] }, 'downloads.example.org'],
      }),
    );
    expect(finding.message).toMatch(/Origin 'roll' when condition 'UseCdn' is true is registry bucket Roll/);
  });

  test('Noncompliance 5: an origin that is an access point alias on the registry', () => {
    const findings = cdnFindings(
      distributionTemplate(
        { 'Fn::Sub': '${RollReaders.Alias}.s3.${AWS::Region}.amazonaws.com' },
        {
          extra: {
            RollReaders: { Type: 'AWS::S3::AccessPoint', Properties: { Bucket: { Ref: 'Roll' } } },
          },
        },
      ),
    );
    expect(findings.map(({ resource }) => resource)).toEqual(['Cdn']);
  });

  test('Noncompliance 6: signed URLs on every behaviour still fire, and the finding says to acknowledge the design', () => {
    const findings = cdnFindings(
      distributionTemplate(
        { 'Fn::GetAtt': ['Roll', 'RegionalDomainName'] },
        { behaviour: { TrustedKeyGroups: [{ Ref: 'Signers' }] } },
      ),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0].message).toMatch(
      /every cache behaviour that reaches it requires signed URLs or cookies \(TrustedKeyGroups\), so acknowledge/,
    );
  });

  test('Noncompliance 7: a registry policy granting an origin access identity by its IAM ARN, with no distribution in the template', () => {
    const findings = cdnFindings({
      Resources: {
        Roll: { Type: 'AWS::S3::Bucket', Properties: { Tags: REGISTRY_TAGS } },
        RollPolicy: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Bucket: { Ref: 'Roll' },
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'CdnRead',
                  Effect: 'Allow',
                  Principal: {
                    AWS: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL',
                  },
                  Action: 's3:GetObject',
                  Resource: { 'Fn::Sub': '${Roll.Arn}/*' },
                },
              ],
            },
          },
        },
      },
    });
    expect(findings).toEqual([
      {
        resource: 'Roll',
        message: expect.stringMatching(
          /RollPolicy statement 1 \(Sid "CdnRead"\) allows a CloudFront origin access identity s3:GetObject; a distribution serves what they allow to anyone: .*signed URLs or signed cookies/,
        ),
      },
    ]);
  });

  test('Compliance: a Distribution serving an ordinary bucket', () => {
    const app = new App();
    const stack = newStack(app);
    new SensitiveRegistryBucket(stack, 'Roll');
    const site = ordinaryBucket(stack, 'TurnoutStatistics');
    new cloudfront.Distribution(stack, 'Cdn', {
      defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(site) },
    });
    expect(cdnViolations(app)).toEqual([]);
  });

  test('Compliance: a registry bucket with no distribution', () => {
    const app = new App();
    const stack = newStack(app);
    new SensitiveRegistryBucket(stack, 'Roll');
    expect(cdnViolations(app)).toEqual([]);
  });

  test.each([
    ['a parameter', { Ref: 'OriginHost' }],
    ['another bucket name that merely contains the registry name', 'roll-2026-copy.s3.amazonaws.com'],
    ['a custom host', 'downloads.example.org'],
  ])('Compliance: an origin host that is %s cannot be attributed to the registry', (_, domainName) => {
    const template = distributionTemplate(domainName, { bucketName: 'roll-2026' });
    expect(cdnFindings({ ...template, Parameters: { OriginHost: { Type: 'String' } } })).toEqual([]);
  });

  test('Compliance: acknowledged with a reason on the distribution and the registry, at synth and in the CLI', () => {
    const { app, pack, outdir } = newGuardedApp({ failSynth: false });
    try {
      const stack = newStack(app);
      const roll = new SensitiveRegistryBucket(stack, 'Roll');
      const cdn = new cloudfront.Distribution(stack, 'Cdn', {
        defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(roll.bucket) },
      });
      for (const scope of [cdn, roll]) {
        Validations.of(scope).acknowledge({
          id: RULE,
          reason:
            'Signed-URL download service for accredited parties; every behaviour requires TrustedKeyGroups.',
        });
      }
      app.synth();
      expect(
        packTemplateViolations(app, pack.validateScope(app)).filter((violation) =>
          violation.startsWith(RULE),
        ),
      ).toEqual([]);
      expect(cliTemplateViolations(outdir).filter((violation) => violation.startsWith(RULE))).toEqual([]);
    } finally {
      removeOutdir(outdir);
    }
  });

  test('checking stays linear: 2,000 distributions over 2,000 registries are checked in under five seconds', () => {
    const resources: Record<string, unknown> = {};
    for (let position = 0; position < 2000; position += 1) {
      resources[`Roll${position}`] = { Type: 'AWS::S3::Bucket', Properties: { Tags: REGISTRY_TAGS } };
      resources[`Cdn${position}`] = {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Origins: [{ Id: 'o', DomainName: { 'Fn::GetAtt': [`Roll${position}`, 'RegionalDomainName'] } }],
            DefaultCacheBehavior: { TargetOriginId: 'o' },
          },
        },
      };
    }
    const started = Date.now();
    expect(cdnFindings({ Resources: resources })).toHaveLength(2000);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
