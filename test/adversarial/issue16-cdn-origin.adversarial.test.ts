/**
 * Issue 16, adversarial: CloudFront origins and CloudFront grants written in ways
 * rules/s3-registry-cdn-origin.ts could miss. A distribution that serves a registry, or a registry policy that
 * lets CloudFront in, must be reported however the host name or the grant is spelled.
 *
 * A test noting "Was a break" guards a way past the kit found in review (issue 16) and since closed.
 */
import { REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE } from '../../lib/classification';
import { checkTemplate } from '../../rules/check-template';

const RULE = 'RegistryGuard-S3RegistryCdnOrigin';
const BUCKET_NAME = 'roll-2026';
const REGISTRY_TAGS = [{ Key: REGISTRY_CLASSIFICATION_TAG_KEY, Value: REGISTRY_CLASSIFICATION_TAG_VALUE }];

/** A registry bucket named {@link BUCKET_NAME}, and a distribution whose one origin is `origin`. */
function distributionTemplate(
  origin: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Roll: {
        Type: 'AWS::S3::Bucket',
        Properties: { BucketName: BUCKET_NAME, Tags: REGISTRY_TAGS },
      },
      Cdn: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Enabled: true,
            Origins: [{ Id: 'roll', ...origin }],
            DefaultCacheBehavior: {
              TargetOriginId: 'roll',
              ViewerProtocolPolicy: 'redirect-to-https',
              CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
            },
          },
        },
      },
      ...extra,
    },
  };
}

const S3_ORIGIN = { S3OriginConfig: { OriginAccessIdentity: '' } };
const CUSTOM_ORIGIN = { CustomOriginConfig: { OriginProtocolPolicy: 'http-only' } };

/** A registry bucket and its policy, the distribution living in another stack. */
function registryPolicyTemplate(statement: Record<string, unknown>): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Roll: { Type: 'AWS::S3::Bucket', Properties: { Tags: REGISTRY_TAGS } },
      RollPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'Roll' },
          PolicyDocument: { Version: '2012-10-17', Statement: [statement] },
        },
      },
    },
  };
}

function cdnFindingsOn(template: unknown): string[] {
  return checkTemplate(template)
    .filter((finding) => finding.ruleId === RULE)
    .map((finding) => finding.resource);
}

describe('issue 16 adversarial: origin host names that name a registry', () => {
  test.each([
    [
      'a CustomOriginConfig on the literal website endpoint',
      { DomainName: `${BUCKET_NAME}.s3-website-eu-west-1.amazonaws.com`, ...CUSTOM_ORIGIN },
    ],
    [
      'a CustomOriginConfig on the dotted website endpoint built with Fn::Sub',
      { DomainName: { 'Fn::Sub': '${Roll}.s3-website.${AWS::Region}.amazonaws.com' }, ...CUSTOM_ORIGIN },
    ],
    [
      'a literal dual-stack host',
      { DomainName: `${BUCKET_NAME}.s3.dualstack.eu-west-1.amazonaws.com`, ...S3_ORIGIN },
    ],
    [
      'Fn::GetAtt of DualStackDomainName',
      { DomainName: { 'Fn::GetAtt': ['Roll', 'DualStackDomainName'] }, ...S3_ORIGIN },
    ],
    [
      'Fn::Join of a literal bucket name and an S3 endpoint',
      {
        DomainName: { 'Fn::Join': ['', [BUCKET_NAME, '.s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        ...S3_ORIGIN,
      },
    ],
  ])('%s is reported', (_, origin) => {
    expect(cdnFindingsOn(distributionTemplate(origin))).toEqual(['Cdn']);
  });

  test('Fn::Join with "." as the delimiter is reported', () => {
    // Guards: adjacent literal pieces (the "." delimiter included) are merged before the S3 endpoint is found.
    const origin = {
      DomainName: { 'Fn::Join': ['.', [{ Ref: 'Roll' }, 's3', { Ref: 'AWS::Region' }, 'amazonaws.com']] },
      ...S3_ORIGIN,
    };
    expect(cdnFindingsOn(distributionTemplate(origin))).toEqual(['Cdn']);
  });

  test('an access point host name (<name>-<account>.s3-accesspoint.<region>.amazonaws.com) is reported', () => {
    // Guards: an access point's own host `<Ref or Name>-<account>.s3-accesspoint...` is attributed to its bucket.
    const origin = {
      DomainName: {
        'Fn::Sub': '${RollReaders}-${AWS::AccountId}.s3-accesspoint.${AWS::Region}.amazonaws.com',
      },
      ...CUSTOM_ORIGIN,
    };
    const template = distributionTemplate(origin, {
      RollReaders: {
        Type: 'AWS::S3::AccessPoint',
        Properties: { Bucket: { Ref: 'Roll' }, Name: 'roll-readers' },
      },
    });
    expect(cdnFindingsOn(template)).toEqual(['Cdn']);
  });

  test('a host name in capitals is reported (DNS names are case-insensitive)', () => {
    // Was a break (markers and bucket name matched case-sensitively); fixed in bucketIdsOfHost().
    const origin = { DomainName: `${BUCKET_NAME.toUpperCase()}.S3.EU-WEST-1.AMAZONAWS.COM`, ...S3_ORIGIN };
    expect(cdnFindingsOn(distributionTemplate(origin))).toEqual(['Cdn']);
  });

  test('a path-style origin (the S3 endpoint, the bucket in OriginPath) is reported', () => {
    // Guards: a path-style origin (the S3 endpoint as host) is attributed to the bucket its OriginPath names.
    const origin = {
      DomainName: 's3.eu-west-1.amazonaws.com',
      OriginPath: `/${BUCKET_NAME}`,
      ...CUSTOM_ORIGIN,
    };
    expect(cdnFindingsOn(distributionTemplate(origin))).toEqual(['Cdn']);
  });
});

describe('issue 16 adversarial: registry policies that let CloudFront in', () => {
  const distributionArn = {
    'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/E2QWRUHEXAMPLE',
  };

  test('an origin access identity named by its IAM ARN built with Fn::Sub is reported', () => {
    const template = registryPolicyTemplate({
      Effect: 'Allow',
      Principal: {
        AWS: {
          'Fn::Sub':
            'arn:${AWS::Partition}:iam::cloudfront:user/CloudFront Origin Access Identity E1ABCDEXAMPLE',
        },
      },
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': '${Roll.Arn}/*' },
    });
    expect(cdnFindingsOn(template)).toEqual(['Roll']);
  });

  test('the CloudFront service principal spelled with Fn::Sub and AWS::URLSuffix is reported', () => {
    // Was a break (only the literal string was compared); fixed in cloudFrontGranteesOf().
    const template = registryPolicyTemplate({
      Effect: 'Allow',
      Principal: { Service: { 'Fn::Sub': 'cloudfront.${AWS::URLSuffix}' } },
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': '${Roll.Arn}/*' },
      Condition: { StringEquals: { 'AWS:SourceArn': distributionArn } },
    });
    expect(cdnFindingsOn(template)).toEqual(['Roll']);
  });

  test('Principal "*" confined by aws:SourceArn of a distribution is a grant to CloudFront, and is reported', () => {
    // Guards: aws:SourceArn naming a distribution is a grant to CloudFront whatever the principal ("*" here).
    const template = registryPolicyTemplate({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': '${Roll.Arn}/*' },
      Condition: { StringEquals: { 'aws:SourceArn': distributionArn } },
    });
    expect(cdnFindingsOn(template)).toEqual(['Roll']);
  });
});
