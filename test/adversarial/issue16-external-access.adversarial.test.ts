/**
 * Issue 16, adversarial: grants a registry policy or an access point policy could hide from the zone-of-trust
 * judgement (lib/exposure/external-access.ts) and from the synth-time rule that applies it
 * (rules/s3-registry-external-access.ts), and public grants the public judgement could miss. Fail closed is
 * the rule: what cannot be shown inside the zone is external; what cannot be shown private is public.
 *
 * A test noting "Was a break" guards a way past the kit found in review (issue 16) and since closed.
 */
import { REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE } from '../../lib/classification';
import { judgeExternalAccess, TrustZone } from '../../lib/exposure/external-access';
import { judgePolicy } from '../../lib/exposure/policy';
import { checkTemplate } from '../../rules/check-template';

const RULE = 'RegistryGuard-S3RegistryExternalAccess';
const ACCOUNT = '111122223333';
const OUTSIDER = '999988887777';
const ORGANIZATION = 'o-a1b2c3d4e5';
const PARTNER_ORGANIZATION = 'o-p9q8r7s6t5';
const ZONE: TrustZone = { accountId: ACCOUNT, organizationId: ORGANIZATION };
const OBJECTS = 'arn:aws:s3:::electoral-roll/*';
const REGISTRY_TAGS = [{ Key: REGISTRY_CLASSIFICATION_TAG_KEY, Value: REGISTRY_CLASSIFICATION_TAG_VALUE }];

function liveAllow(principal: unknown, condition?: Record<string, unknown>): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:GetObject',
        Resource: OBJECTS,
        ...(condition === undefined ? {} : { Condition: condition }),
      },
    ],
  });
}

/** A registry bucket, its policy's statements, and any further resources. */
function registryTemplate(
  statements: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Roll: { Type: 'AWS::S3::Bucket', Properties: { Tags: REGISTRY_TAGS } },
      RollPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'Roll' },
          PolicyDocument: { Version: '2012-10-17', Statement: statements },
        },
      },
      ...extra,
    },
  };
}

const BUCKET_ARN = { 'Fn::GetAtt': ['Roll', 'Arn'] };
const OBJECTS_ARN = { 'Fn::Sub': '${Roll.Arn}/*' };

function externalFindings(template: unknown): { resource: string; message: string }[] {
  return checkTemplate(template)
    .filter((finding) => finding.ruleId === RULE)
    .map(({ resource, message }) => ({ resource, message }));
}

/** The Deny SensitiveRegistryBucket writes for allowedOrganizationId, with the actions given. */
function organizationFence(organization: string, action: unknown): Record<string, unknown> {
  return {
    Sid: 'DenyOutsideOrganization',
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: action,
    Resource: [BUCKET_ARN, OBJECTS_ARN],
    Condition: { StringNotEquals: { 'aws:PrincipalOrgID': organization } },
  };
}

function readByOrganization(organization: string): Record<string, unknown> {
  return {
    Sid: 'OrganizationRead',
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: 's3:GetObject',
    Resource: OBJECTS_ARN,
    Condition: { StringEquals: { 'aws:PrincipalOrgID': organization } },
  };
}

describe('issue 16 adversarial: the zone of trust a template declares', () => {
  test('a full organization fence (s3:*) makes the organization the zone: a read confined to it passes', () => {
    const template = registryTemplate([
      organizationFence(PARTNER_ORGANIZATION, 's3:*'),
      readByOrganization(PARTNER_ORGANIZATION),
    ]);
    expect(externalFindings(template)).toEqual([]);
  });

  test('without a fence, a read confined to an organization is external (the zone has none)', () => {
    const template = registryTemplate([readByOrganization(PARTNER_ORGANIZATION)]);
    expect(externalFindings(template).map((finding) => finding.resource)).toEqual(['Roll']);
  });

  test('a "fence" that denies one harmless action cannot declare a partner organization to be the zone', () => {
    // Was a break: any Deny-unless-PrincipalOrgID counted as the fence; only a full fence (s3:* on every object) does.
    const template = registryTemplate([
      organizationFence(PARTNER_ORGANIZATION, 's3:PutBucketTagging'),
      readByOrganization(PARTNER_ORGANIZATION),
    ]);
    expect(externalFindings(template)).toEqual([
      expect.objectContaining({ resource: 'Roll', message: expect.stringMatching(/OrganizationRead/) }),
    ]);
  });
});

describe('issue 16 adversarial: access point policies whose conditions are always true', () => {
  // In an access point policy these keys always name the access point itself (its account, its ARN): as a
  // condition they confine nothing. They confine only in a bucket policy, where they delegate to access points.
  test.each([
    [
      's3:DataAccessPointAccount of the template account',
      { StringEquals: { 's3:DataAccessPointAccount': { Ref: 'AWS::AccountId' } } },
    ],
    [
      "s3:DataAccessPointArn of the access point's own ARN",
      {
        StringEquals: {
          's3:DataAccessPointArn': {
            'Fn::Sub': 'arn:${AWS::Partition}:s3:${AWS::Region}:${AWS::AccountId}:accesspoint/partner',
          },
        },
      },
    ],
  ])('an access point on a registry granting another account under %s is external', (_, condition) => {
    // Was a break: s3:DataAccessPointAccount/Arn always hold in an access point's own policy (kind 'accessPoint').
    const template = registryTemplate([], {
      PartnerPoint: {
        Type: 'AWS::S3::AccessPoint',
        Properties: {
          Bucket: { Ref: 'Roll' },
          Name: 'partner',
          Policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${OUTSIDER}:root` },
                Action: 's3:GetObject',
                Resource: {
                  'Fn::Sub':
                    'arn:${AWS::Partition}:s3:${AWS::Region}:${AWS::AccountId}:accesspoint/partner/object/*',
                },
                Condition: condition,
              },
            ],
          },
        },
      },
    });
    expect(externalFindings(template).map((finding) => finding.resource)).toContain('PartnerPoint');
  });
});

describe('issue 16 adversarial: live registry policies', () => {
  test('a bucket policy delegating to the access points of any account is external and public', () => {
    const policy = liveAllow('*', {
      StringLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-east-1:*:accesspoint/*' },
    });
    expect(judgeExternalAccess(policy, ZONE).isExternal).toBe(true);
    expect(judgePolicy(policy).isPublic).toBe(true);
  });

  test('a bucket policy delegating to the access points of another account is external', () => {
    const policy = liveAllow('*', { StringEquals: { 's3:DataAccessPointAccount': OUTSIDER } });
    expect(judgeExternalAccess(policy, ZONE).isExternal).toBe(true);
  });

  test.each([
    ['the zone organization', ORGANIZATION, false],
    ['another organization', PARTNER_ORGANIZATION, true],
  ])('ForAnyValue:StringEquals on aws:PrincipalOrgID of %s', (_, organization, external) => {
    const policy = liveAllow(
      { AWS: '*' },
      { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgID': organization } },
    );
    expect(judgeExternalAccess(policy, ZONE).isExternal).toBe(external);
  });

  test.each([
    ['a trailing wildcard', '1111222233*'],
    ['single-character wildcards', '1111222233??'],
    ['a wildcard alone', '*'],
  ])('aws:PrincipalAccount under StringLike with %s is external', (_, account) => {
    expect(
      judgeExternalAccess(liveAllow('*', { StringLike: { 'aws:PrincipalAccount': account } }), ZONE)
        .isExternal,
    ).toBe(true);
  });

  test('a service principal confined only by ArnLike aws:SourceArn of any account is external', () => {
    const policy = liveAllow(
      { Service: 'cloudfront.amazonaws.com' },
      { ArnLike: { 'aws:SourceArn': 'arn:aws:cloudfront::*:distribution/*' } },
    );
    expect(judgeExternalAccess(policy, ZONE).isExternal).toBe(true);
  });

  test('a federated principal is external even under aws:SourceIp', () => {
    const policy = liveAllow(
      { Federated: 'accounts.google.com' },
      { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
    );
    expect(judgeExternalAccess(policy, ZONE).isExternal).toBe(true);
  });

  test('aws:SourceIp listing every /8 of IPv4: AWS judges each range alone, so not public; a registry still flags it as external', () => {
    // The S3 User Guide's rule is per value (broader than /8 is public); summing ranges would call policies
    // public that AWS calls private. A registry is not left open by it: "*" under an IP condition is not
    // confined to the zone of trust, which RegistryGuard-S3RegistryExternalAccess and the guard page.
    const everySlashEight = Array.from({ length: 256 }, (_, octet) => `${octet}.0.0.0/8`);
    const policy = liveAllow('*', { IpAddress: { 'aws:SourceIp': everySlashEight } });
    expect(judgePolicy(policy).isPublic).toBe(false);
    expect(judgeExternalAccess(policy, ZONE).isExternal).toBe(true);
  });
});
