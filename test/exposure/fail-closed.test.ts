/**
 * The judgement fails closed: every example of the S3 User Guide's "The meaning of public", and every way a
 * value can be unknown before deployment, as table tests. A statement with any value that cannot be shown
 * fixed is never judged private.
 */
import { judgeAcl, judgeCannedAcl } from '../../lib/exposure/acl';
import { judgePolicy, PolicyKind } from '../../lib/exposure/policy';
import { TemplateContext } from '../../lib/exposure/policy-values';

const OBJECTS = 'arn:aws:s3:::electoral-roll/*';

function allow(extra: Record<string, unknown>): Record<string, unknown> {
  return { Effect: 'Allow', Action: 's3:GetObject', Resource: OBJECTS, ...extra };
}

function policyOf(...statements: unknown[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: statements };
}

/** A template context with one resource of each kind the judgement tells apart. */
const TEMPLATE: TemplateContext = {
  parameterNames: new Set(['TrustedAccount', 'EndpointId', 'AppName', 'OfficeCidr']),
  parameterAllowedValues: new Map([['OfficeCidr', ['203.0.113.0/24', '198.51.100.0/24']]]),
  resourceTypeOf: (logicalId) =>
    ({
      ReaderRole: 'AWS::IAM::Role',
      Endpoint: 'AWS::EC2::VPCEndpoint',
      Lookup: 'Custom::PrincipalLookup',
      LegacyLookup: 'AWS::CloudFormation::CustomResource',
      Child: 'AWS::CloudFormation::Stack',
      Setting: 'AWS::SSM::Parameter',
      Identity: 'AWS::CloudFront::CloudFrontOriginAccessIdentity',
    })[logicalId],
};

function judged(policy: unknown, kind: PolicyKind = 'bucket', context: TemplateContext = TEMPLATE) {
  return judgePolicy(policy, { kind, context });
}

describe('the examples of "The meaning of public" (S3 User Guide)', () => {
  test.each<[string, Record<string, unknown>, boolean]>([
    [
      'Federated graph.facebook.com is public',
      {
        Principal: { Federated: 'graph.facebook.com' },
        Resource: '*',
        Action: 's3:PutObject',
        Effect: 'Allow',
      },
      true,
    ],
    [
      'Principal "*" is public',
      { Principal: '*', Resource: '*', Action: 's3:PutObject', Effect: 'Allow' },
      true,
    ],
    [
      'StringLike aws:SourceVpc vpc-* is public',
      {
        Principal: '*',
        Resource: '*',
        Action: 's3:PutObject',
        Effect: 'Allow',
        Condition: { StringLike: { 'aws:SourceVpc': 'vpc-*' } },
      },
      true,
    ],
    [
      'StringEquals aws:SourceVpc vpc-91237329 is not public',
      {
        Principal: '*',
        Resource: '*',
        Action: 's3:PutObject',
        Effect: 'Allow',
        Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-91237329' } },
      },
      false,
    ],
  ])('%s', (_name, statement, expected) => {
    expect(judgePolicy({ Statement: statement }).isPublic).toBe(expected);
    expect(judgePolicy(JSON.stringify({ Statement: [statement] })).isPublic).toBe(expected);
  });

  test('a policy of CloudTrail, a second account and "*" is public through the third statement only', () => {
    const verdict = judgePolicy(
      policyOf(
        allow({ Principal: { Service: 'cloudtrail.amazonaws.com' } }),
        allow({ Principal: { AWS: 'arn:aws:iam::222233334444:root' } }),
        allow({ Principal: '*' }),
      ),
    );
    expect(verdict.publicStatements.map((statement) => statement.index)).toEqual([2]);
  });

  test('aws:SourceIp broader than /8 (IPv4) or /32 (IPv6) is public; /8 and /32 are not', () => {
    const withIp = (cidr: string) =>
      judgePolicy(policyOf(allow({ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': cidr } } })))
        .isPublic;
    expect(withIp('0.0.0.0/1')).toBe(true);
    expect(withIp('10.0.0.0/7')).toBe(true);
    expect(withIp('10.0.0.0/8')).toBe(false);
    expect(withIp('2001:db8::/31')).toBe(true);
    expect(withIp('2001:db8::/32')).toBe(false);
  });
});

describe('federated principals', () => {
  test.each<[string, Record<string, unknown>, unknown, boolean]>([
    ['Cognito without a condition', { Federated: 'cognito-identity.amazonaws.com' }, undefined, true],
    [
      'Cognito limited to one identity pool (aud)',
      { Federated: 'cognito-identity.amazonaws.com' },
      { StringEquals: { 'cognito-identity.amazonaws.com:aud': 'us-west-2:0000-1111' } },
      false,
    ],
    [
      'Cognito with a wildcard audience',
      { Federated: 'cognito-identity.amazonaws.com' },
      { StringLike: { 'cognito-identity.amazonaws.com:aud': 'us-west-2:*' } },
      true,
    ],
    [
      'Google limited to one client id',
      { Federated: 'accounts.google.com' },
      { StringEquals: { 'accounts.google.com:aud': '1234.apps.googleusercontent.com' } },
      false,
    ],
    [
      'an OIDC provider limited to its audience',
      { Federated: 'arn:aws:iam::111122223333:oidc-provider/idp.example.gov/realm' },
      { StringEquals: { 'idp.example.gov/realm:aud': 'registry' } },
      false,
    ],
    [
      "an OIDC provider with another provider's audience key",
      { Federated: 'arn:aws:iam::111122223333:oidc-provider/idp.example.gov' },
      { StringEquals: { 'accounts.google.com:aud': 'registry' } },
      true,
    ],
    [
      'a SAML provider limited by SAML:aud',
      { Federated: 'arn:aws:iam::111122223333:saml-provider/Registry' },
      { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
      false,
    ],
    [
      'Facebook limited by app_id (not credited: no AWS source says so)',
      { Federated: 'graph.facebook.com' },
      { StringEquals: { 'graph.facebook.com:app_id': '1234' } },
      true,
    ],
    [
      'Facebook limited by a key from the guide',
      { Federated: 'graph.facebook.com' },
      { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
      false,
    ],
    [
      'an audience condition does not restrict "*" beside the federated principal',
      { Federated: 'cognito-identity.amazonaws.com', AWS: '*' },
      { StringEquals: { 'cognito-identity.amazonaws.com:aud': 'us-west-2:0000-1111' } },
      true,
    ],
  ])('%s → public: %s', (_name, principal, condition, expected) => {
    const statement = allow({
      Principal: principal,
      ...(condition === undefined ? {} : { Condition: condition }),
    });
    expect(judgePolicy(policyOf(statement)).isPublic).toBe(expected);
  });

  test('the reason says who a federated principal is', () => {
    const verdict = judgePolicy(policyOf(allow({ Principal: { Federated: 'graph.facebook.com' } })));
    expect(verdict.publicStatements[0].reason).toBe(
      "Principal Federated 'graph.facebook.com' is anyone who can sign in with that identity provider, and no condition limits it to fixed values",
    );
  });
});

describe('values unknown before deployment are never fixed', () => {
  test.each<[string, unknown]>([
    ['an SSM dynamic reference as the whole principal', { AWS: '{{resolve:ssm:/registry/reader}}' }],
    [
      'a Secrets Manager dynamic reference in Fn::Sub',
      { AWS: { 'Fn::Sub': '{{resolve:secretsmanager:reader}}' } },
    ],
    ['Fn::GetAtt of a custom resource', { AWS: { 'Fn::GetAtt': ['Lookup', 'Arn'] } }],
    [
      'Fn::GetAtt of an AWS::CloudFormation::CustomResource',
      { AWS: { 'Fn::GetAtt': 'LegacyLookup.Principal' } },
    ],
    ['Ref of a custom resource', { AWS: { Ref: 'Lookup' } }],
    ["a nested stack's output", { AWS: { 'Fn::GetAtt': ['Child', 'Outputs.ReaderArn'] } }],
    ["an SSM parameter's value", { AWS: { 'Fn::GetAtt': ['Setting', 'Value'] } }],
    ['a resource that is not in the template', { AWS: { 'Fn::GetAtt': ['Missing', 'Arn'] } }],
    ['Fn::ImportValue', { AWS: { 'Fn::ImportValue': 'shared-reader' } }],
    ['an intrinsic the judgement does not read', { AWS: { 'Fn::Transform': { Name: 'X' } } }],
    ['a whole-principal template parameter', { AWS: { Ref: 'TrustedAccount' } }],
    ['an unknown YAML tag made into an intrinsic', { AWS: { 'Fn::Foo': 'bar' } }],
    ['a list built at deploy time', { AWS: { 'Fn::Split': [',', { Ref: 'TrustedAccount' }] } }],
  ])('%s', (_name, principal) => {
    const verdict = judged(policyOf(allow({ Principal: principal })));
    expect(verdict.isPublic).toBe(true);
  });

  test.each<[string, unknown]>([
    ['an SSM dynamic reference', '{{resolve:ssm:/registry/endpoint}}'],
    ['Fn::GetAtt of a custom resource', { 'Fn::GetAtt': ['Lookup', 'EndpointId'] }],
    ["a nested stack's output", { 'Fn::GetAtt': ['Child', 'Outputs.EndpointId'] }],
    ['a template parameter', { Ref: 'EndpointId' }],
    ['Fn::ImportValue', { 'Fn::ImportValue': 'endpoint' }],
    ['AWS::NoValue (the key is removed)', { Ref: 'AWS::NoValue' }],
    [
      'Fn::If with an AWS::NoValue branch',
      { 'Fn::If': ['Restricted', 'vpce-1a2b3c4d', { Ref: 'AWS::NoValue' }] },
    ],
    ['a list whose only entry is AWS::NoValue', [{ Ref: 'AWS::NoValue' }]],
  ])('a condition value from %s restricts nothing', (_name, value) => {
    const statement = allow({ Principal: '*', Condition: { StringEquals: { 'aws:SourceVpce': value } } });
    expect(judged(policyOf(statement)).isPublic).toBe(true);
  });

  test.each<[string, unknown]>([
    ['a Condition of AWS::NoValue', { Ref: 'AWS::NoValue' }],
    [
      'a Condition chosen by Fn::If with an AWS::NoValue branch',
      {
        'Fn::If': [
          'Restricted',
          { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } },
          { Ref: 'AWS::NoValue' },
        ],
      },
    ],
    [
      'an operator block chosen by Fn::If with an AWS::NoValue branch',
      {
        StringEquals: {
          'Fn::If': ['Restricted', { 'aws:SourceVpce': 'vpce-1a2b3c4d' }, { Ref: 'AWS::NoValue' }],
        },
      },
    ],
    ['a Condition built by an intrinsic', { 'Fn::GetAtt': ['Lookup', 'Condition'] }],
  ])('%s leaves "*" unrestricted', (_name, condition) => {
    expect(judged(policyOf(allow({ Principal: '*', Condition: condition }))).isPublic).toBe(true);
  });

  test('a condition restricts when every Fn::If branch restricts', () => {
    const condition = {
      'Fn::If': [
        'InEurope',
        { StringEquals: { 'aws:SourceVpce': 'vpce-eu' } },
        { StringEquals: { 'aws:SourceVpce': 'vpce-us' } },
      ],
    };
    expect(judged(policyOf(allow({ Principal: '*', Condition: condition }))).isPublic).toBe(false);
  });

  test('fixed resource identifiers stay fixed: a role Arn, a VPC endpoint id, an OAI canonical user', () => {
    const statements = [
      allow({ Principal: { AWS: { 'Fn::GetAtt': ['ReaderRole', 'Arn'] } } }),
      allow({ Principal: '*', Condition: { StringEquals: { 'aws:SourceVpce': { Ref: 'Endpoint' } } } }),
      allow({ Principal: { CanonicalUser: { 'Fn::GetAtt': ['Identity', 'S3CanonicalUserId'] } } }),
    ];
    expect(judged(policyOf(...statements)).isPublic).toBe(false);
  });

  test('aws:SourceIp from a parameter whose AllowedValues are narrow CIDRs is bounded', () => {
    const statement = allow({
      Principal: '*',
      Condition: { IpAddress: { 'aws:SourceIp': { Ref: 'OfficeCidr' } } },
    });
    expect(judged(policyOf(statement)).isPublic).toBe(false);
  });
});

describe('a deploy-time value inside a principal ARN cannot widen it to everyone', () => {
  test.each<[string, unknown, boolean]>([
    ['a parameter as the account of a root ARN', { 'Fn::Sub': 'arn:aws:iam::${TrustedAccount}:root' }, false],
    [
      'a parameter inside a role name',
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Admin-${AppName}' },
      false,
    ],
    [
      'a parameter joined into an ARN',
      { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'TrustedAccount' }, ':root']] },
      false,
    ],
    ['a parameter that is the whole principal through Fn::Sub', { 'Fn::Sub': '${TrustedAccount}' }, true],
    [
      'a parameter that is the whole principal through Fn::Join',
      { 'Fn::Join': ['', [{ Ref: 'TrustedAccount' }]] },
      true,
    ],
    ['a literal wildcard inside the ARN', { 'Fn::Sub': 'arn:aws:iam::${TrustedAccount}:role/*' }, true],
  ])('%s → public: %s', (_name, principal, expected) => {
    expect(judged(policyOf(allow({ Principal: { AWS: principal } }))).isPublic).toBe(expected);
  });
});

describe('both branches of every Fn::If are judged', () => {
  const publicStatement = allow({ Principal: '*' });
  const denyAll = { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: OBJECTS };

  test('a PolicyDocument chosen by Fn::If is public when either document is', () => {
    const policy = { 'Fn::If': ['Open', policyOf(publicStatement), policyOf(denyAll)] };
    const verdict = judged(policy);
    expect(verdict.isPublic).toBe(true);
    expect(verdict.publicStatements[0].label).toBe("statement 1 when condition 'Open' is true");
  });

  test('a Statement list chosen by Fn::If is public when either list is', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: { 'Fn::If': ['Open', [denyAll], [denyAll, publicStatement]] },
    };
    const verdict = judged(policy);
    expect(verdict.publicStatements.map((statement) => statement.label)).toEqual([
      "statement 2 when condition 'Open' is false",
    ]);
  });

  test('a Statement chosen by Fn::If between two lists of Deny is not public, and not unreadable', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: { 'Fn::If': ['Strict', [denyAll], [denyAll, denyAll]] },
    };
    expect(judged(policy).isPublic).toBe(false);
  });

  test('a Principal whose member list is chosen by Fn::If', () => {
    const principal = { AWS: { 'Fn::If': ['Shared', ['111122223333', '*'], ['111122223333']] } };
    expect(judged(policyOf(allow({ Principal: principal }))).isPublic).toBe(true);
    const fixed = { AWS: { 'Fn::If': ['Shared', ['111122223333', '444455556666'], ['111122223333']] } };
    expect(judged(policyOf(allow({ Principal: fixed }))).isPublic).toBe(false);
  });

  test('an Effect chosen by Fn::If grants when either branch is Allow', () => {
    const statement = { ...publicStatement, Effect: { 'Fn::If': ['Open', 'Allow', 'Deny'] } };
    expect(judged(policyOf(statement)).isPublic).toBe(true);
  });

  test('AWS::NoValue as the document, the Statement or the Principal grants nothing', () => {
    expect(judged({ Ref: 'AWS::NoValue' }).isPublic).toBe(false);
    expect(judged({ Version: '2012-10-17', Statement: { Ref: 'AWS::NoValue' } }).isPublic).toBe(false);
    expect(judged(policyOf(allow({ Principal: { Ref: 'AWS::NoValue' } }))).isPublic).toBe(false);
  });

  test('a statement, Statement or document built by another intrinsic cannot be shown to be private', () => {
    expect(judged(policyOf({ Ref: 'Lookup' })).isPublic).toBe(true);
    expect(
      judged({ Version: '2012-10-17', Statement: { 'Fn::GetAtt': ['Lookup', 'Statements'] } }).isPublic,
    ).toBe(true);
    const verdict = judged({ 'Fn::Sub': '{"Statement": []}' });
    expect(verdict.publicStatements[0].reason).toBe(
      'the policy document is built at deploy time (Fn::Sub), so it cannot be shown to be private',
    );
  });

  test('Fn::If nested deeper than the judgement reads is unknown, and the reason prints no placeholder', () => {
    let principal: unknown = '111122223333';
    for (let depth = 0; depth < 40; depth += 1)
      principal = { 'Fn::If': [`C${depth}`, principal, '111122223333'] };
    const verdict = judged(policyOf(allow({ Principal: { AWS: principal } })));
    expect(verdict.isPublic).toBe(true);
    expect(verdict.publicStatements[0].reason).not.toContain('${');
  });
});

describe('reasons say what is true', () => {
  const reasonOf = (policy: unknown, context?: TemplateContext) =>
    judgePolicy(policy, { context }).publicStatements.map((statement) => statement.reason)[0] ?? '';

  test('${*} is IAM\'s escape for a literal "*", not a wildcard', () => {
    const statement = allow({ Principal: '*', Condition: { StringLike: { 'aws:SourceVpce': 'vpce-${*}' } } });
    expect(judgePolicy(policyOf(statement)).isPublic).toBe(false);
  });

  test('under Version 2008-10-17 nothing is substituted: ${*} is a plain "*"', () => {
    const statement = allow({ Principal: '*', Condition: { StringLike: { 'aws:SourceVpce': 'vpce-${*}' } } });
    const reason = reasonOf({ Version: '2008-10-17', Statement: [statement] });
    expect(reason).toContain("the policy's Version is not 2012-10-17");
  });

  test('under Version 2008-10-17 ${aws:username} is plain text, not a policy variable', () => {
    const statement = allow({ Principal: { AWS: 'arn:aws:iam::111122223333:user/${aws:username}' } });
    expect(judgePolicy({ Version: '2008-10-17', Statement: [statement] }).isPublic).toBe(false);
    expect(reasonOf(policyOf(statement))).toContain('contains the policy variable ${aws:username}');
  });

  test('StringEquals compares "vpce-*" as plain text: the reason does not call it a wildcard', () => {
    const statement = allow({ Principal: '*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-*' } } });
    const reason = reasonOf(policyOf(statement));
    expect(reason).not.toContain('contains a wildcard');
    expect(reason).toContain('StringEquals compares it as plain text');
  });

  test('a live policy with a list as its Condition says it is not an object, not "before deployment"', () => {
    const statement = allow({
      Principal: '*',
      Condition: [{ StringEquals: { 'aws:SourceVpce': 'vpce-1' } }],
    });
    const reason = reasonOf(JSON.stringify(policyOf(statement)));
    expect(reason).toContain('the Condition block is a list, not a JSON object');
    expect(reason).not.toContain('deploy');
  });

  test('a statement that is not an object is named with the right article', () => {
    expect(reasonOf(policyOf(['a list']))).toBe(
      'the statement is a list, not a JSON object, so it cannot be shown to be private',
    );
    expect(reasonOf(policyOf(7))).toBe(
      'the statement is a number, not a JSON object, so it cannot be shown to be private',
    );
  });
});

describe('live ACLs in every shape AWS returns', () => {
  const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

  test("Config's grantSet filled with grantList null", () => {
    const acl = JSON.stringify({ grantSet: [{ grantee: 'AllUsers', permission: 'Read' }], grantList: null });
    expect(judgeAcl(acl).publicGrants).toEqual([
      { grantee: 'AllUsers', permission: 'Read', source: 'grant' },
    ]);
  });

  test("Config's canonical-user and group ids", () => {
    const acl = { grantList: [{ grantee: { id: 'AllUsers', displayName: null }, permission: 'Read' }] };
    expect(judgeAcl(acl).isPublic).toBe(true);
  });

  test("the S3 REST API's XML AccessControlPolicy", () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Owner><ID>owner</ID></Owner><AccessControlList>' +
      '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>owner</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>' +
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>` +
      '</AccessControlList></AccessControlPolicy>';
    expect(judgeAcl(xml).publicGrants).toEqual([
      { grantee: 'AllUsers', permission: 'READ', source: 'grant' },
    ]);
  });

  test("PutBucketAcl's AccessControlPolicy object", () => {
    const acl = {
      AccessControlPolicy: { Grants: [{ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }] },
    };
    expect(judgeAcl(acl).isPublic).toBe(true);
  });

  test.each<[string, string]>([
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['__proto__', '__proto__'],
    ['a misspelt canned ACL', 'public-reed'],
  ])(
    'a canned ACL name looked up as an own property only: %s is unreadable, never a crash',
    (_name, name) => {
      const verdict = judgeCannedAcl(name);
      expect(verdict.isPublic).toBe(true);
      expect(verdict.unreadable).toContain('is not a canned ACL');
      expect(judgeAcl(name).isPublic).toBe(true);
    },
  );

  test.each<[string, unknown]>([
    ['a number', 42],
    ['an object of no ACL shape', { Foo: [] }],
    ['grantList that is not a list', { grantList: 'AllUsers' }],
    ['grantList and grantSet both null', { grantList: null, grantSet: null }],
    ['a grant with no grantee', { Grants: [{ Permission: 'READ' }] }],
    ['XML that is not an AccessControlPolicy', '<Error><Code>AccessDenied</Code></Error>'],
  ])('%s is refused loudly: unreadable and so possibly public', (_name, acl) => {
    const verdict = judgeAcl(acl);
    expect(verdict.isPublic).toBe(true);
    expect(verdict.unreadable).toBeDefined();
  });
});

describe('linear time on adversarial input', () => {
  test('a 1 MB principal of "${${${..." is judged in well under a second', () => {
    const hostile = '${'.repeat(500_000);
    const started = Date.now();
    const verdict = judgePolicy(policyOf(allow({ Principal: { AWS: hostile } })));
    const subVerdict = judged(policyOf(allow({ Principal: { AWS: { 'Fn::Sub': hostile } } })));
    const dynamic = judged(policyOf(allow({ Principal: { AWS: '{{resolve:'.repeat(100_000) } })));
    // A guard against a hang, not a benchmark: quadratic scans took minutes on this input.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(verdict.isPublic).toBe(false);
    expect(subVerdict.isPublic).toBe(false);
    expect(dynamic.isPublic).toBe(false);
  });
});
