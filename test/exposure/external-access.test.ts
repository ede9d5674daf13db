import { judgeExternalAccess, TrustZone } from '../../lib/exposure/external-access';
import { judgePolicy } from '../../lib/exposure/policy';
import type { TemplateContext } from '../../lib/exposure/policy-values';

const ACCOUNT = '111122223333';
const TRUSTED = '444455556666';
const OUTSIDER = '999988887777';
const ORGANIZATION = 'o-a1b2c3d4e5';
const OTHER_ORGANIZATION = 'o-z9y8x7w6v5';
const ZONE: TrustZone = { accountId: ACCOUNT, organizationId: ORGANIZATION, trustedAccountIds: [TRUSTED] };
const OBJECTS = 'arn:aws:s3:::electoral-roll/*';

function allow(principal: unknown, condition?: Record<string, unknown>): Record<string, unknown> {
  return {
    Effect: 'Allow',
    Principal: principal,
    Action: 's3:GetObject',
    Resource: OBJECTS,
    ...(condition === undefined ? {} : { Condition: condition }),
  };
}

function policyOf(...statements: Record<string, unknown>[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: statements };
}

/** Live policies are JSON text: nothing in them is an intrinsic. */
function isExternal(statement: Record<string, unknown>, zone: TrustZone = ZONE): boolean {
  return judgeExternalAccess(JSON.stringify(policyOf(statement)), zone).isExternal;
}

type Case = [name: string, statement: Record<string, unknown>, external: boolean];

// What Access Analyzer calls the zone of trust: "Any principal in the organization or account that you choose
// for the analyzer is considered trusted", and a grant to "a principal in an account that is not a member of
// the organization" is a finding.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html
describe('judgeExternalAccess: principals and the zone of trust', () => {
  test.each<Case>([
    ['the root of another account', allow({ AWS: `arn:aws:iam::${OUTSIDER}:root` }), true],
    ['another account by id', allow({ AWS: OUTSIDER }), true],
    ['a role of another account', allow({ AWS: `arn:aws:iam::${OUTSIDER}:role/reader` }), true],
    ['the zone account by id', allow({ AWS: ACCOUNT }), false],
    ['the root of the zone account', allow({ AWS: `arn:aws:iam::${ACCOUNT}:root` }), false],
    ['a role of the zone account', allow({ AWS: `arn:aws:iam::${ACCOUNT}:role/registry-reader` }), false],
    ['a user of the zone account', allow({ AWS: `arn:aws:iam::${ACCOUNT}:user/auditor` }), false],
    [
      'an assumed role of the zone account',
      allow({ AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/ana` }),
      false,
    ],
    ['an account trusted by name', allow({ AWS: `arn:aws:iam::${TRUSTED}:root` }), false],
    [
      'a list with one account outside the zone',
      allow({ AWS: [`arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${OUTSIDER}:root`] }),
      true,
    ],
    [
      'another account under aws:PrincipalOrgID of the zone organization',
      allow(
        { AWS: `arn:aws:iam::${OUTSIDER}:root` },
        { StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION } },
      ),
      false,
    ],
    [
      'another account under aws:PrincipalOrgID of another organization',
      allow(
        { AWS: `arn:aws:iam::${OUTSIDER}:root` },
        { StringEquals: { 'aws:PrincipalOrgID': OTHER_ORGANIZATION } },
      ),
      true,
    ],
    [
      'a member of the organization named by account id alone (membership cannot be read from an id)',
      allow({ AWS: `arn:aws:iam::${OUTSIDER}:root` }),
      true,
    ],
    [
      '"*" under aws:PrincipalOrgPaths below the zone organization',
      allow('*', {
        'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': `${ORGANIZATION}/r-ab12/ou-ab12-11111111/*` },
      }),
      false,
    ],
    [
      '"*" under aws:PrincipalOrgPaths of another organization',
      allow('*', { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': `${OTHER_ORGANIZATION}/*` } }),
      true,
    ],
    ['a federated identity provider', allow({ Federated: 'cognito-identity.amazonaws.com' }), true],
    [
      'a SAML provider, even of the zone account (Access Analyzer reports principal.Federated)',
      allow({ Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/registry-idp` }),
      true,
    ],
    [
      'a canonical user',
      allow({ CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' }),
      true,
    ],
  ])('%s → external: %s', (_name, statement, external) => {
    expect(isExternal(statement)).toBe(external);
  });

  test('the organization is no zone at all when the zone names none', () => {
    const statement = allow('*', { StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION } });
    expect(isExternal(statement, { accountId: ACCOUNT })).toBe(true);
  });

  test('an account id that is not 12 digits (a token) is unknown: no literal account matches it', () => {
    const zone = { accountId: '${Token[AWS.AccountId.6]}' };
    expect(isExternal(allow({ AWS: `arn:aws:iam::${ACCOUNT}:root` }), zone)).toBe(true);
  });

  test('the reason names the principal and the zone', () => {
    const verdict = judgeExternalAccess(
      JSON.stringify(policyOf({ Sid: 'Partner', ...allow({ AWS: `arn:aws:iam::${OUTSIDER}:root` }) })),
      ZONE,
    );
    expect(verdict.externalStatements).toEqual([
      expect.objectContaining({ index: 0, sid: 'Partner', label: 'statement 1 (Sid "Partner")' }),
    ]);
    expect(verdict.externalStatements[0].reason).toMatch(
      /is account 999988887777, outside the zone of trust, and no condition confines it .*organization o-a1b2c3d4e5/,
    );
  });
});

// Access Analyzer reports a grant to "*" together with the condition that limits it (filter keys
// condition.aws:PrincipalAccount, condition.aws:SourceVpce, ...): keys naming the principal's account confine
// it; a network condition is reported as a condition of the finding, not as the end of it.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-filter-keys.html
describe('judgeExternalAccess: conditions that confine "*"', () => {
  test.each<Case>([
    [
      'aws:PrincipalAccount in the zone',
      allow('*', { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } }),
      false,
    ],
    [
      'aws:PrincipalAccount listing a trusted account and the zone account',
      allow('*', { StringEquals: { 'aws:PrincipalAccount': [ACCOUNT, TRUSTED] } }),
      false,
    ],
    [
      'aws:PrincipalAccount listing one account outside the zone',
      allow('*', { StringEquals: { 'aws:PrincipalAccount': [ACCOUNT, OUTSIDER] } }),
      true,
    ],
    [
      'aws:PrincipalArn of roles in the zone account',
      allow('*', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/registry-*` } }),
      false,
    ],
    [
      'aws:PrincipalArn with a wildcard account',
      allow('*', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/registry-reader' } }),
      true,
    ],
    [
      'aws:PrincipalArn under StringLike with a wildcard before the account (it may span colons)',
      allow('*', { StringLike: { 'aws:PrincipalArn': `arn:*:${ACCOUNT}:role/x` } }),
      true,
    ],
    ['aws:userid of the zone root', allow('*', { StringEquals: { 'aws:userid': ACCOUNT } }), false],
    [
      'aws:userid of a role session (its unique id names no account)',
      allow('*', { StringLike: { 'aws:userid': 'AROAEXAMPLEID:*' } }),
      true,
    ],
    ['aws:SourceIp', allow('*', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), true],
    [
      'aws:SourceVpce (an endpoint id does not say whose it is)',
      allow('*', { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } }),
      true,
    ],
    ['aws:SourceVpc', allow('*', { StringEquals: { 'aws:SourceVpc': 'vpc-111bbb22' } }), true],
    [
      's3:DataAccessPointAccount of the zone (access delegated to its access points)',
      allow('*', { StringEquals: { 's3:DataAccessPointAccount': ACCOUNT } }),
      false,
    ],
  ])('"*" with %s → external: %s', (_name, statement, external) => {
    expect(isExternal(statement)).toBe(external);
  });

  test('"*" limited only by aws:SourceIp is external and public too', () => {
    const statement = allow('*', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } });
    expect(isExternal(statement)).toBe(true);
    expect(judgePolicy(JSON.stringify(policyOf(statement))).isPublic).toBe(true);
  });

  test('a fixed account outside the zone is external although it is not public', () => {
    const statement = allow({ AWS: `arn:aws:iam::${OUTSIDER}:root` });
    expect(isExternal(statement)).toBe(true);
    expect(judgePolicy(JSON.stringify(policyOf(statement))).isPublic).toBe(false);
  });
});

// "the aws:SourceAccount condition key is only available when the call to your resource is made directly by an
// AWS service principal": a service grant is confined by the account or resource the service acts for.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
describe('judgeExternalAccess: service principals', () => {
  const distribution = `arn:aws:cloudfront::${ACCOUNT}:distribution/EDFDVBD6EXAMPLE`;
  test.each<Case>([
    ['cloudfront.amazonaws.com with no condition', allow({ Service: 'cloudfront.amazonaws.com' }), true],
    [
      'cloudfront.amazonaws.com with aws:SourceArn of a distribution in the zone',
      allow({ Service: 'cloudfront.amazonaws.com' }, { StringEquals: { 'AWS:SourceArn': distribution } }),
      false,
    ],
    [
      'cloudfront.amazonaws.com with aws:SourceArn of a distribution of another account',
      allow(
        { Service: 'cloudfront.amazonaws.com' },
        { StringEquals: { 'aws:SourceArn': `arn:aws:cloudfront::${OUTSIDER}:distribution/E2EXAMPLE` } },
      ),
      true,
    ],
    ['logging.s3.amazonaws.com with no condition', allow({ Service: 'logging.s3.amazonaws.com' }), true],
    [
      'logging.s3.amazonaws.com with aws:SourceAccount in the zone',
      allow({ Service: 'logging.s3.amazonaws.com' }, { StringEquals: { 'aws:SourceAccount': ACCOUNT } }),
      false,
    ],
    [
      'logging.s3.amazonaws.com with aws:SourceAccount of another account',
      allow({ Service: 'logging.s3.amazonaws.com' }, { StringEquals: { 'aws:SourceAccount': OUTSIDER } }),
      true,
    ],
    [
      'logging.s3.amazonaws.com with only aws:SourceArn of a bucket (a bucket ARN names no account)',
      allow(
        { Service: 'logging.s3.amazonaws.com' },
        { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::source-bucket' } },
      ),
      true,
    ],
  ])('%s → external: %s', (_name, statement, external) => {
    expect(isExternal(statement)).toBe(external);
  });
});

// Policy evaluation: "an explicit deny in any policy overrides any allows", and NotPrincipal with Allow
// "grants to everyone it does not list".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
describe('judgeExternalAccess: effects', () => {
  test('a Deny grants nothing, even to "*"', () => {
    expect(isExternal({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: OBJECTS })).toBe(false);
  });

  test('NotPrincipal in an Allow is external even when it lists only the zone account', () => {
    const statement = {
      Effect: 'Allow',
      NotPrincipal: { AWS: ACCOUNT },
      Action: 's3:GetObject',
      Resource: OBJECTS,
    };
    expect(isExternal(statement)).toBe(true);
  });

  test('only the external statement is listed', () => {
    const verdict = judgeExternalAccess(
      JSON.stringify(
        policyOf(allow({ AWS: ACCOUNT }), allow({ AWS: OUTSIDER }), { ...allow('*'), Effect: 'Deny' }),
      ),
      ZONE,
    );
    expect(verdict.externalStatements.map((statement) => statement.index)).toEqual([1]);
  });
});

// IAM condition operators: "...IfExists ... If the key is not present, the condition evaluates to true", and
// ForAllValues "returns true if ... the request has no values for the key".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
describe('judgeExternalAccess: operators', () => {
  test.each<Case>([
    [
      'StringEqualsIfExists (a request without the key passes)',
      allow('*', { StringEqualsIfExists: { 'aws:PrincipalOrgID': ORGANIZATION } }),
      true,
    ],
    [
      'StringNotEquals (negated)',
      allow('*', { StringNotEquals: { 'aws:PrincipalOrgID': OTHER_ORGANIZATION } }),
      true,
    ],
    [
      'ForAllValues:StringLike (an empty set passes)',
      allow('*', { 'ForAllValues:StringLike': { 'aws:PrincipalOrgPaths': `${ORGANIZATION}/*` } }),
      true,
    ],
    [
      'StringLike with a wildcard organization',
      allow('*', { StringLike: { 'aws:PrincipalOrgID': 'o-*' } }),
      true,
    ],
    [
      'StringEqualsIgnoreCase of the organization',
      allow('*', { StringEqualsIgnoreCase: { 'aws:PrincipalOrgID': ORGANIZATION.toUpperCase() } }),
      false,
    ],
    ['Null on aws:PrincipalOrgID', allow('*', { Null: { 'aws:PrincipalOrgID': 'false' } }), true],
    ['an empty value list', allow('*', { StringEquals: { 'aws:PrincipalAccount': [] } }), true],
  ])('"*" with %s → external: %s', (_name, statement, external) => {
    expect(isExternal(statement)).toBe(external);
  });

  test('the reason says why a near-confining condition does not confine', () => {
    const statement = allow('*', { StringEqualsIfExists: { 'aws:PrincipalOrgID': ORGANIZATION } });
    const [external] = judgeExternalAccess(JSON.stringify(policyOf(statement)), ZONE).externalStatements;
    expect(external.reason).toMatch(
      /StringEqualsIfExists on aws:PrincipalOrgID lets through requests that lack the key/,
    );
  });
});

// Unknown values fail closed, as the public judgement treats them (docs/rules.md, "Judgement of public").
describe('judgeExternalAccess: values read from a template', () => {
  const resources: Record<string, string> = {
    ReaderRole: 'AWS::IAM::Role',
    Endpoint: 'AWS::EC2::VPCEndpoint',
    Lookup: 'Custom::AccountLookup',
  };
  const context: TemplateContext = {
    parameterNames: new Set(['PartnerAccount', 'OrgId']),
    resourceTypeOf: (logicalId) => resources[logicalId],
  };
  /** The template's account is unknown at synth: only AWS::AccountId names it. */
  const templateZone: TrustZone = { accountId: '', organizationId: ORGANIZATION };
  const judge = (statement: Record<string, unknown>): boolean =>
    judgeExternalAccess(policyOf(statement), templateZone, { context }).isExternal;

  test.each<Case>([
    [
      'Fn::Sub of the template account root',
      allow({ AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }),
      false,
    ],
    ['Ref AWS::AccountId', allow({ AWS: { Ref: 'AWS::AccountId' } }), false],
    [
      "CDK's Fn::Join of the account root",
      allow({
        AWS: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']],
        },
      }),
      false,
    ],
    [
      'Fn::GetAtt of a role the template creates',
      allow({ AWS: { 'Fn::GetAtt': ['ReaderRole', 'Arn'] } }),
      false,
    ],
    ['a literal account id (the template account is unknown)', allow({ AWS: ACCOUNT }), true],
    ['a parameter as the principal', allow({ AWS: { Ref: 'PartnerAccount' } }), true],
    [
      'a parameter inside the principal ARN',
      allow({ AWS: { 'Fn::Sub': 'arn:aws:iam::${PartnerAccount}:root' } }),
      true,
    ],
    ['a custom resource output as the principal', allow({ AWS: { 'Fn::GetAtt': ['Lookup', 'Arn'] } }), true],
    ['a dynamic reference as the principal', allow({ AWS: '{{resolve:ssm:/registry/partner}}' }), true],
    [
      'aws:PrincipalOrgID from a parameter',
      allow('*', { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrgId' } } }),
      true,
    ],
    [
      'aws:PrincipalAccount of the template account',
      allow('*', { StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } }),
      false,
    ],
    [
      'aws:SourceVpce of an endpoint the template creates',
      allow('*', { StringEquals: { 'aws:SourceVpce': { Ref: 'Endpoint' } } }),
      false,
    ],
    [
      'Fn::If with an outside account in one branch',
      allow({ AWS: { 'Fn::If': ['Shared', `arn:aws:iam::${OUTSIDER}:root`, { Ref: 'AWS::AccountId' }] } }),
      true,
    ],
    [
      'a confining condition in only one Fn::If branch',
      allow('*', {
        'Fn::If': [
          'Fenced',
          { StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION } },
          { Ref: 'AWS::NoValue' },
        ],
      }),
      true,
    ],
    ['a Condition block built at deploy time', allow('*', { 'Fn::GetAtt': ['Lookup', 'Condition'] }), true],
  ])('%s → external: %s', (_name, statement, external) => {
    expect(judge(statement)).toBe(external);
  });

  test('a whole policy built at deploy time cannot be shown confined', () => {
    const verdict = judgeExternalAccess({ 'Fn::GetAtt': ['Lookup', 'Policy'] }, templateZone, { context });
    expect(verdict.externalStatements[0].reason).toMatch(
      /cannot be shown to be confined to the zone of trust/,
    );
  });

  test('text that is not JSON cannot be shown confined', () => {
    expect(judgeExternalAccess('{"Statement": [', ZONE).isExternal).toBe(true);
  });

  test('no policy grants nothing', () => {
    expect(judgeExternalAccess(undefined, ZONE).isExternal).toBe(false);
  });
});

describe('judgeExternalAccess: cost', () => {
  test('a policy of many statements and long ARNs is judged in linear time', () => {
    const statements = Array.from({ length: 5_000 }, (_, index) =>
      allow({ AWS: `arn:aws:iam::${ACCOUNT}:role/${':'.repeat(200)}${index}` }),
    );
    const started = Date.now();
    expect(judgeExternalAccess(JSON.stringify(policyOf(...statements)), ZONE).isExternal).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
