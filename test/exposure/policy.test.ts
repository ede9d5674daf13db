import { judgePolicy, PolicyKind } from '../../lib/exposure/policy';

const BUCKET = 'arn:aws:s3:::electoral-roll';
const OBJECTS = `${BUCKET}/*`;

function allow(extra: Record<string, unknown>): Record<string, unknown> {
  return { Effect: 'Allow', Action: 's3:GetObject', Resource: OBJECTS, ...extra };
}

function policyOf(...statements: Record<string, unknown>[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: statements };
}

function isPublic(policy: unknown, kind: PolicyKind = 'bucket', parameters: string[] = []): boolean {
  return judgePolicy(policy, { kind, context: { parameterNames: new Set(parameters) } }).isPublic;
}

describe('judgePolicy: principals', () => {
  test.each<[string, unknown, boolean]>([
    ['Principal "*"', '*', true],
    ['Principal AWS "*"', { AWS: '*' }, true],
    ['Principal AWS list containing "*"', { AWS: ['arn:aws:iam::111122223333:root', '*'] }, true],
    ['an account root with a wildcard account', { AWS: 'arn:aws:iam::*:root' }, true],
    ['a role ARN with a wildcard name', { AWS: 'arn:aws:iam::111122223333:role/*' }, true],
    ['a policy variable in the principal', { AWS: 'arn:aws:iam::111122223333:user/${aws:username}' }, true],
    ['a fixed account id', { AWS: '111122223333' }, false],
    ['a fixed account root ARN', { AWS: 'arn:aws:iam::111122223333:root' }, false],
    ['a fixed role ARN', { AWS: 'arn:aws:iam::111122223333:role/registry-reader' }, false],
    ['a service principal', { Service: 'cloudtrail.amazonaws.com' }, false],
    [
      'a canonical user',
      { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
      false,
    ],
    [
      'a federated principal with no audience condition',
      { Federated: 'cognito-identity.amazonaws.com' },
      true,
    ],
  ])('%s → public: %s', (_name, principal, expected) => {
    expect(isPublic(policyOf(allow({ Principal: principal })))).toBe(expected);
  });

  test('NotPrincipal in an Allow grants to everyone else', () => {
    const verdict = judgePolicy(policyOf(allow({ NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } })));
    expect(verdict.isPublic).toBe(true);
    expect(verdict.publicStatements[0].reason).toMatch(/NotPrincipal/);
  });

  test('NotPrincipal in an Allow is public even when it lists a fixed principal and "*" is absent', () => {
    expect(isPublic(policyOf(allow({ NotPrincipal: { Service: 'cloudtrail.amazonaws.com' } })))).toBe(true);
  });
});

describe('judgePolicy: effects and statement shapes', () => {
  test('a Deny statement grants nothing, even to "*"', () => {
    const deny = { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [BUCKET, OBJECTS] };
    expect(isPublic(policyOf(deny))).toBe(false);
  });

  test('a Deny with a negated condition is still no grant', () => {
    const deny = {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: OBJECTS,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    };
    expect(isPublic(policyOf(deny))).toBe(false);
  });

  test('Statement may be a single object rather than an array', () => {
    expect(isPublic({ Statement: allow({ Principal: '*' }) })).toBe(true);
    expect(isPublic({ Statement: allow({ Principal: { AWS: '111122223333' } }) })).toBe(false);
  });

  test('a policy given as a JSON string (as S3 returns it) is parsed', () => {
    expect(isPublic(JSON.stringify(policyOf(allow({ Principal: '*' }))))).toBe(true);
  });

  test('no policy at all is not public', () => {
    expect(isPublic(undefined)).toBe(false);
    expect(isPublic(null)).toBe(false);
    expect(isPublic('')).toBe(false);
    expect(isPublic({ Version: '2012-10-17', Statement: [] })).toBe(false);
  });

  test('unreadable policies fail closed: they cannot be shown to be private', () => {
    expect(isPublic('{not json')).toBe(true);
    expect(isPublic('[]')).toBe(true);
    expect(isPublic({ Statement: ['not an object'] })).toBe(true);
  });

  test('one public statement among private ones makes the policy public, and only it is named', () => {
    const verdict = judgePolicy(
      policyOf(
        allow({ Sid: 'CloudTrail', Principal: { Service: 'cloudtrail.amazonaws.com' } }),
        allow({ Sid: 'Partner', Principal: { AWS: 'arn:aws:iam::222233334444:root' } }),
        allow({ Sid: 'Everyone', Principal: '*' }),
      ),
    );
    expect(verdict.isPublic).toBe(true);
    expect(verdict.publicStatements).toHaveLength(1);
    expect(verdict.publicStatements[0]).toMatchObject({ index: 2, sid: 'Everyone' });
    expect(verdict.publicStatements[0].label).toBe('statement 3 (Sid "Everyone")');
  });

  test('actions do not matter: any Allow to the public is public', () => {
    expect(
      isPublic(
        policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetBucketLocation', Resource: BUCKET }),
      ),
    ).toBe(true);
    expect(
      isPublic(
        policyOf({ Effect: 'Allow', Principal: '*', NotAction: 's3:DeleteObject', Resource: OBJECTS }),
      ),
    ).toBe(true);
  });
});

describe('judgePolicy: conditions with fixed values make a grant non-public', () => {
  test.each<[string, string, unknown]>([
    ['aws:SourceArn', 'ArnEquals', 'arn:aws:cloudtrail:us-east-1:111122223333:trail/registry'],
    ['aws:SourceVpc', 'StringEquals', 'vpc-91237329'],
    ['aws:SourceVpce', 'StringEquals', 'vpce-1a2b3c4d'],
    ['aws:SourceOwner', 'StringEquals', '111122223333'],
    ['aws:SourceAccount', 'StringEquals', '111122223333'],
    ['aws:PrincipalOrgID', 'StringEquals', 'o-a1b2c3d4e5'],
    ['aws:PrincipalAccount', 'StringEquals', '111122223333'],
    ['aws:PrincipalArn', 'ArnEquals', 'arn:aws:iam::111122223333:role/registry-reader'],
    ['aws:userid', 'StringEquals', 'AIDACKCEVSQ6C2EXAMPLE'],
    ['aws:userid', 'StringLike', 'AROAEXAMPLEID:*'],
    ['s3:DataAccessPointArn', 'StringEquals', 'arn:aws:s3:us-west-2:123456789012:accesspoint/registry'],
    ['s3:DataAccessPointArn', 'StringLike', 'arn:aws:s3:us-west-2:123456789012:accesspoint/*'],
    ['s3:DataAccessPointAccount', 'StringEquals', '123456789012'],
    [
      's3:x-amz-server-side-encryption-aws-kms-key-id',
      'StringEquals',
      'arn:aws:kms:us-east-1:111122223333:key/1234',
    ],
    ['aws:SourceIp', 'IpAddress', '203.0.113.0/24'],
    ['aws:SourceIp', 'IpAddress', ['203.0.113.0/24', '2001:db8::/48']],
    ['aws:SourceIp', 'IpAddress', '10.0.0.0/8'],
    ['aws:SourceIp', 'IpAddress', '198.51.100.7'],
    ['aws:SourceVpc', 'StringLike', 'vpc-91237329'],
    ['aws:SourceVpce', 'ForAnyValue:StringEquals', ['vpce-1', 'vpce-2']],
    ['aws:SourceAccount', 'StringEqualsIgnoreCase', '111122223333'],
  ])('%s with %s %j', (key, operator, value) => {
    const statement = allow({ Principal: '*', Condition: { [operator]: { [key]: value } } });
    expect(isPublic(policyOf(statement))).toBe(false);
  });

  test('condition keys are case-insensitive', () => {
    const statement = allow({
      Principal: '*',
      Condition: { StringEquals: { 'AWS:SOURCEVPCE': 'vpce-1a2b3c4d' } },
    });
    expect(isPublic(policyOf(statement))).toBe(false);
  });

  test('one restricting key among unrelated ones is enough (conditions are ANDed)', () => {
    const statement = allow({
      Principal: '*',
      Condition: {
        Bool: { 'aws:SecureTransport': 'true' },
        StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d', 's3:prefix': 'public/' },
      },
    });
    expect(isPublic(policyOf(statement))).toBe(false);
  });

  test('the example from the guide: StringEquals aws:SourceVpc vpc-91237329 is non-public', () => {
    const statement = {
      Principal: '*',
      Resource: '*',
      Action: 's3:PutObject',
      Effect: 'Allow',
      Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-91237329' } },
    };
    expect(isPublic({ Statement: statement })).toBe(false);
  });
});

describe('judgePolicy: conditions that restrict nothing', () => {
  test.each<[string, string, string, unknown]>([
    ['a wildcard value', 'StringLike', 'aws:SourceVpc', 'vpc-*'],
    ['a "?" wildcard', 'StringLike', 'aws:SourceAccount', '11112222333?'],
    ['a policy variable', 'StringEquals', 'aws:SourceAccount', '${aws:PrincipalAccount}'],
    ['one wildcard among fixed values', 'StringEquals', 'aws:SourceVpce', ['vpce-1', '*']],
    ['a negated operator', 'StringNotEquals', 'aws:SourceVpce', 'vpce-1a2b3c4d'],
    ['NotIpAddress', 'NotIpAddress', 'aws:SourceIp', '203.0.113.0/24'],
    ['ArnNotLike', 'ArnNotLike', 'aws:SourceArn', 'arn:aws:sns:us-east-1:111122223333:topic'],
    ['StringNotLike', 'StringNotLike', 'aws:PrincipalOrgID', 'o-a1b2c3d4e5'],
    ['an IfExists operator', 'StringEqualsIfExists', 'aws:SourceVpce', 'vpce-1a2b3c4d'],
    ['ForAllValues', 'ForAllValues:StringEquals', 'aws:SourceVpce', 'vpce-1a2b3c4d'],
    ['a key outside the guide', 'StringEquals', 's3:prefix', 'home/'],
    ['aws:SecureTransport', 'Bool', 'aws:SecureTransport', 'true'],
    ['aws:SourceIp 0.0.0.0/0', 'IpAddress', 'aws:SourceIp', '0.0.0.0/0'],
    ['aws:SourceIp ::/0', 'IpAddress', 'aws:SourceIp', '::/0'],
    ['aws:SourceIp 0.0.0.0/1', 'IpAddress', 'aws:SourceIp', '0.0.0.0/1'],
    ['aws:SourceIp broader than /8', 'IpAddress', 'aws:SourceIp', '12.0.0.0/7'],
    ['aws:SourceIp IPv6 broader than /32', 'IpAddress', 'aws:SourceIp', '2001:db8::/31'],
    ['one broad CIDR among narrow ones', 'IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '0.0.0.0/0']],
    ['an invalid CIDR', 'IpAddress', 'aws:SourceIp', '300.1.1.1/24'],
    ['aws:SourceIp under a string operator', 'StringEquals', 'aws:SourceIp', '203.0.113.0/24'],
    ['aws:userid with a wildcard', 'StringLike', 'aws:userid', '*'],
    ['aws:userid wildcard not in the role pattern', 'StringLike', 'aws:userid', 'AROA*:*'],
    ['an empty value list', 'StringEquals', 'aws:SourceVpce', []],
    [
      's3:DataAccessPointArn with a wildcard account',
      'StringLike',
      's3:DataAccessPointArn',
      'arn:aws:s3:us-west-2:*:accesspoint/*',
    ],
  ])('%s', (_name, operator, key, value) => {
    const verdict = judgePolicy(
      policyOf(allow({ Principal: '*', Condition: { [operator]: { [key]: value } } })),
    );
    expect(verdict.isPublic).toBe(true);
  });

  test('the reason says why the condition did not count', () => {
    const verdict = judgePolicy(
      policyOf(allow({ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } })),
    );
    expect(verdict.publicStatements[0].reason).toContain("'0.0.0.0/0' is broader than /8");
  });

  test('an access point policy may not wildcard the access point name in s3:DataAccessPointArn', () => {
    const statement = allow({
      Principal: '*',
      Condition: {
        StringLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-west-2:123456789012:accesspoint/*' },
      },
    });
    expect(isPublic(policyOf(statement), 'bucket')).toBe(false);
    expect(isPublic(policyOf(statement), 'accessPoint')).toBe(true);
  });

  test('kms:CallerAccount restricts a KMS key policy only', () => {
    const statement = {
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': '111122223333' } },
    };
    expect(isPublic(policyOf(statement), 'kmsKey')).toBe(false);
    expect(isPublic(policyOf(statement), 'bucket')).toBe(true);
  });
});

describe('judgePolicy: CloudFormation intrinsics', () => {
  const joinedRoot = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']],
  };

  test('a principal built with Fn::Join of pseudo parameters is fixed', () => {
    expect(isPublic(policyOf(allow({ Principal: { AWS: joinedRoot } })))).toBe(false);
  });

  test('a principal built with Fn::Sub of pseudo parameters is fixed', () => {
    const principal = { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } };
    expect(isPublic(policyOf(allow({ Principal: principal })))).toBe(false);
  });

  test('Ref of a pseudo parameter and GetAtt of a resource are fixed', () => {
    expect(isPublic(policyOf(allow({ Principal: { AWS: { Ref: 'AWS::AccountId' } } })))).toBe(false);
    expect(isPublic(policyOf(allow({ Principal: { AWS: { 'Fn::GetAtt': ['ReaderRole', 'Arn'] } } })))).toBe(
      false,
    );
  });

  test('a principal from a template parameter could be "*" and is not fixed', () => {
    const policy = policyOf(allow({ Principal: { AWS: { Ref: 'TrustedPrincipal' } } }));
    expect(isPublic(policy, 'bucket', ['TrustedPrincipal'])).toBe(true);
  });

  test('Fn::Sub with a wildcard in its literal text is not fixed', () => {
    const principal = { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*' } };
    expect(isPublic(policyOf(allow({ Principal: principal })))).toBe(true);
  });

  test('Fn::Sub ${!var} is an escaped IAM policy variable, not a fixed value', () => {
    const condition = { StringEquals: { 'aws:SourceAccount': { 'Fn::Sub': '${!aws:PrincipalAccount}' } } };
    expect(isPublic(policyOf(allow({ Principal: '*', Condition: condition })))).toBe(true);
  });

  test('a condition value from a pseudo parameter is fixed', () => {
    const condition = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
    expect(isPublic(policyOf(allow({ Principal: '*', Condition: condition })))).toBe(false);
  });

  test('an aws:SourceIp from a parameter cannot be shown to be bounded', () => {
    const condition = { IpAddress: { 'aws:SourceIp': { Ref: 'OfficeCidr' } } };
    expect(
      isPublic(policyOf(allow({ Principal: '*', Condition: condition })), 'bucket', ['OfficeCidr']),
    ).toBe(true);
  });

  test('a statement chosen by Fn::If is public when either branch is', () => {
    const policy = {
      Statement: [
        { 'Fn::If': ['IsProd', allow({ Principal: { AWS: joinedRoot } }), allow({ Principal: '*' })] },
      ],
    };
    const verdict = judgePolicy(policy);
    expect(verdict.isPublic).toBe(true);
    expect(verdict.publicStatements[0].label).toContain("when condition 'IsProd' is false");
  });

  test('AWS::NoValue as a statement is no statement', () => {
    expect(isPublic({ Statement: [{ Ref: 'AWS::NoValue' }] })).toBe(false);
  });

  test('deeply nested intrinsics do not crash and are not fixed', () => {
    let value: unknown = 'arn:aws:iam::111122223333:root';
    for (let depth = 0; depth < 200; depth += 1) value = { 'Fn::Join': ['', [value]] };
    expect(isPublic(policyOf(allow({ Principal: { AWS: value } })))).toBe(true);
  });
});

describe('judgePolicy: template parameters and mappings', () => {
  const statementWith = (principal: unknown) => ({ Statement: [allow({ Principal: { AWS: principal } })] });

  test('a parameter whose AllowedValues are all fixed is fixed', () => {
    const context = {
      parameterNames: new Set(['Reader']),
      parameterAllowedValues: new Map([['Reader', ['111122223333', '444455556666']]]),
    };
    expect(judgePolicy(statementWith({ Ref: 'Reader' }), { context }).isPublic).toBe(false);
  });

  test('a parameter that allows "*" among its values is not fixed', () => {
    const context = {
      parameterNames: new Set(['Reader']),
      parameterAllowedValues: new Map([['Reader', ['111122223333', '*']]]),
    };
    expect(judgePolicy(statementWith({ Ref: 'Reader' }), { context }).isPublic).toBe(true);
  });

  const mappings = {
    Accounts: {
      'us-east-1': { Reader: '111122223333', Anyone: '*' },
      'eu-west-1': { Reader: '444455556666', Anyone: '*' },
    },
  };
  const context = { parameterNames: new Set<string>(), mappings };

  test('Fn::FindInMap with a deploy-time key is fixed when every entry it could pick is', () => {
    const principal = { 'Fn::FindInMap': ['Accounts', { Ref: 'AWS::Region' }, 'Reader'] };
    expect(judgePolicy(statementWith(principal), { context }).isPublic).toBe(false);
  });

  test('Fn::FindInMap that could pick "*" is not fixed', () => {
    const principal = { 'Fn::FindInMap': ['Accounts', { Ref: 'AWS::Region' }, 'Anyone'] };
    expect(judgePolicy(statementWith(principal), { context }).isPublic).toBe(true);
  });

  test('Fn::FindInMap of a missing entry cannot be shown to be fixed', () => {
    const principal = { 'Fn::FindInMap': ['Nowhere', 'us-east-1', 'Reader'] };
    expect(judgePolicy(statementWith(principal), { context }).isPublic).toBe(true);
  });
});
