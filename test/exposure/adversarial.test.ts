/**
 * Adversarial review of the one judgement of "public" (lib/exposure) and of the template rules that apply it.
 * Each test names the behaviour AWS (or failing closed) requires. Failing tests are breaks found in review;
 * passing ones pin behaviour that was probed and found right.
 */
import { judgeAcl } from '../../lib/exposure/acl';
import { judgePolicy } from '../../lib/exposure/policy';
import { checkTemplate } from '../../rules/check-template';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const OBJECTS = 'arn:aws:s3:::electoral-roll/*';
const BPA_ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

function allow(extra: Record<string, unknown>): Record<string, unknown> {
  return { Effect: 'Allow', Action: 's3:GetObject', Resource: OBJECTS, ...extra };
}

function policyOf(...statements: unknown[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: statements };
}

/** A template whose bucket (Block Public Access unstated) carries one policy statement. */
function templateWith(
  statement: Record<string, unknown>,
  extra: { Parameters?: unknown; Mappings?: unknown; Transform?: unknown; Resources?: object } = {},
): Record<string, unknown> {
  return {
    ...extra,
    Resources: {
      Roll: { Type: 'AWS::S3::Bucket', Properties: {} },
      RollPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: { Bucket: { Ref: 'Roll' }, PolicyDocument: policyOf(allow(statement)) },
      },
      ...(extra.Resources ?? {}),
    },
  };
}

function errorsOf(template: unknown, ruleId: string): string[] {
  return checkTemplate(template)
    .filter((finding) => finding.level === 'error' && finding.ruleId === ruleId)
    .map((finding) => finding.resource);
}

function aclXml(grant: string): string {
  return (
    '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>owner</ID></Owner>' +
    `<AccessControlList>${grant}</AccessControlList></AccessControlPolicy>`
  );
}

const GROUPEE = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"';

describe('live policy text with duplicate keys', () => {
  // JSON.parse keeps the last duplicate; which one S3/IAM evaluates cannot be proven, so fail closed.
  test('a statement with two Principal keys, the first "*", is public', () => {
    const text =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",' +
      '"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"*"}]}';
    expect(judgePolicy(text).isPublic).toBe(true);
  });

  // The same ambiguity on Condition: the first (empty) Condition may be the one evaluated.
  test('a statement with two Condition keys, the first empty, is public', () => {
    const text =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Condition":{},' +
      '"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}},"Action":"s3:GetObject","Resource":"*"}]}';
    expect(judgePolicy(text).isPublic).toBe(true);
  });

  // And on Effect: an Allow that a later duplicate turns into Deny for JSON.parse only.
  test('a statement with Effect Allow then Effect Deny is public', () => {
    const text =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*",' +
      '"Action":"s3:GetObject","Resource":"*"}]}';
    expect(judgePolicy(text).isPublic).toBe(true);
  });
});

describe('ACL XML as the S3 REST API writes it', () => {
  // XML 1.0 STag: '<' Name (S Attribute)* S? '>' — whitespace before '>' is the same element.
  test('a <Grant > to AllUsers, with whitespace in the tag, is public', () => {
    const xml = aclXml(
      `<Grant ><Grantee ${GROUPEE}><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`,
    );
    expect(judgeAcl(xml).isPublic).toBe(true);
  });

  // XML 1.0: a CDATA section is character data, so the URI is AllUsers.
  test('a grantee URI in a CDATA section naming AllUsers is public', () => {
    const xml = aclXml(
      `<Grant><Grantee ${GROUPEE}><URI><![CDATA[${ALL_USERS}]]></URI></Grantee><Permission>READ</Permission></Grant>`,
    );
    expect(judgeAcl(xml).isPublic).toBe(true);
  });

  // XML 1.0: &#85; is the character 'U', so the URI is AllUsers.
  test('a grantee URI spelled with a character reference naming AllUsers is public', () => {
    const xml = aclXml(
      `<Grant><Grantee ${GROUPEE}><URI>http://acs.amazonaws.com/groups/global/All&#85;sers</URI></Grantee>` +
        '<Permission>READ</Permission></Grant>',
    );
    expect(judgeAcl(xml).isPublic).toBe(true);
  });

  // XML 1.0: comments are not character data, so the URI is AllUsers.
  test('a grantee URI with a comment inside naming AllUsers is public', () => {
    const xml = aclXml(
      `<Grant><Grantee ${GROUPEE}><URI><!-- x -->${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`,
    );
    expect(judgeAcl(xml).isPublic).toBe(true);
  });

  // Namespaces in XML: s3:Grant bound to the S3 namespace is the same Grant element; unread grants fail closed.
  test('a namespace-prefixed s3:Grant to AllUsers is public', () => {
    const xml = aclXml(
      '<s3:Grant xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Grantee><s3:URI>' +
        `${ALL_USERS}</s3:URI></s3:Grantee><s3:Permission>READ</s3:Permission></s3:Grant>`,
    );
    expect(judgeAcl(xml).isPublic).toBe(true);
  });

  // Pin: the plain AWS shape is read.
  test('a plain <Grant> to AllUsers is public', () => {
    const xml = aclXml(
      `<Grant><Grantee ${GROUPEE}><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`,
    );
    expect(judgeAcl(xml).isPublic).toBe(true);
  });
});

describe('ACL grantees that name no group S3 defines', () => {
  // judgeAcl's contract: a grant whose grantee cannot be read is unreadable, and unreadable is public.
  test.each([
    [
      'a lower-case AllUsers URI',
      { Grantee: { Type: 'Group', URI: ALL_USERS.toLowerCase() }, Permission: 'READ' },
    ],
    [
      'an AllUsers URI with a trailing slash',
      { Grantee: { Type: 'Group', URI: `${ALL_USERS}/` }, Permission: 'READ' },
    ],
    [
      'an unknown global group URI',
      {
        Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/Everyone' },
        Permission: 'READ',
      },
    ],
  ])('a grant to %s is unreadable, so public', (_label, grant) => {
    const verdict = judgeAcl({ Owner: { ID: 'owner' }, Grants: [grant] });
    expect(verdict.isPublic).toBe(true);
    expect(verdict.unreadable).toBeDefined();
  });

  // Same contract for AWS Config's short group names: only AllUsers, AuthenticatedUsers, LogDelivery exist.
  test('a Config grantList grant to "allusers" is unreadable, so public', () => {
    const verdict = judgeAcl({ grantList: [{ grantee: 'allusers', permission: 'Read' }] });
    expect(verdict.isPublic).toBe(true);
  });
});

describe('template values that are resolved outside the template', () => {
  // CloudFormation docs, Systems Manager parameter types: AllowedValues validate the parameter key, never
  // the value fetched from Parameter Store, which could be "*".
  test('a Principal from an SSM parameter type with AllowedValues is public', () => {
    const template = templateWith(
      { Principal: { AWS: { Ref: 'Reader' } } },
      {
        Parameters: {
          Reader: {
            Type: 'AWS::SSM::Parameter::Value<String>',
            AllowedValues: ['/registry/reader-arn'],
            Default: '/registry/reader-arn',
          },
        },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // Same rule for a condition value: the SSM value could be "*" under StringLike.
  test('an aws:SourceVpce from an SSM parameter type with AllowedValues does not restrict', () => {
    const template = templateWith(
      { Principal: '*', Condition: { StringLike: { 'aws:SourceVpce': { Ref: 'Endpoint' } } } },
      {
        Parameters: {
          Endpoint: { Type: 'AWS::SSM::Parameter::Value<String>', AllowedValues: ['/network/endpoint'] },
        },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // Same rule for AccessControl: the SSM value could be PublicRead.
  test('an AccessControl from an SSM parameter type with AllowedValues is an error', () => {
    const template = {
      Parameters: { Acl: { Type: 'AWS::SSM::Parameter::Value<String>', AllowedValues: ['Private'] } },
      Resources: { Roll: { Type: 'AWS::S3::Bucket', Properties: { AccessControl: { Ref: 'Acl' } } } },
    };
    expect(errorsOf(template, 'RegistryGuard-S3PublicAcl')).toEqual(['Roll']);
  });

  // AWS::LanguageExtensions: Fn::FindInMap returns DefaultValue when the keys name no entry (any other region).
  test('a Principal from Fn::FindInMap with DefaultValue "*" is public', () => {
    const template = templateWith(
      {
        Principal: {
          AWS: { 'Fn::FindInMap': ['Readers', { Ref: 'AWS::Region' }, 'Arn', { DefaultValue: '*' }] },
        },
      },
      {
        Transform: 'AWS::LanguageExtensions',
        Mappings: { Readers: { 'eu-west-1': { Arn: 'arn:aws:iam::111122223333:root' } } },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // Same DefaultValue rule inside a condition: "*" under StringLike matches every endpoint.
  test('an aws:SourceVpce from Fn::FindInMap with DefaultValue "*" does not restrict', () => {
    const template = templateWith(
      {
        Principal: '*',
        Condition: {
          StringLike: {
            'aws:SourceVpce': {
              'Fn::FindInMap': ['Endpoints', { Ref: 'AWS::Region' }, 'Id', { DefaultValue: '*' }],
            },
          },
        },
      },
      {
        Transform: 'AWS::LanguageExtensions',
        Mappings: { Endpoints: { 'eu-west-1': { Id: 'vpce-1a2b3c4d' } } },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // docs/rules.md: a nested stack's Outputs.X is unknown; AWS::Serverless::Application is a nested stack.
  test('a Principal from a SAM application output (Outputs.ReaderArn) is public', () => {
    const template = templateWith(
      { Principal: { AWS: { 'Fn::GetAtt': ['Lookup', 'Outputs.ReaderArn'] } } },
      {
        Resources: { Lookup: { Type: 'AWS::Serverless::Application', Properties: { Location: 'app.yaml' } } },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // Same, through Fn::Sub.
  test('a Principal of Fn::Sub "${Lookup.Outputs.ReaderArn}" from a SAM application is public', () => {
    const template = templateWith(
      { Principal: { AWS: { 'Fn::Sub': '${Lookup.Outputs.ReaderArn}' } } },
      {
        Resources: { Lookup: { Type: 'AWS::Serverless::Application', Properties: { Location: 'app.yaml' } } },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // A Service Catalog provisioned product's Outputs.X are its product template's outputs: any value.
  test('a Principal from a provisioned product output (Outputs.ReaderArn) is public', () => {
    const template = templateWith(
      { Principal: { AWS: { 'Fn::GetAtt': ['Product', 'Outputs.ReaderArn'] } } },
      {
        Resources: {
          Product: { Type: 'AWS::ServiceCatalog::CloudFormationProvisionedProduct', Properties: {} },
        },
      },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // A third-party registry type's attributes come from its publisher's handler, like a custom resource's.
  test('a Principal from an attribute of a third-party resource type is public', () => {
    const template = templateWith(
      { Principal: { AWS: { 'Fn::GetAtt': ['Lookup', 'PrincipalArn'] } } },
      { Resources: { Lookup: { Type: 'Acme::Iam::PrincipalLookup', Properties: {} } } },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });

  // CloudFormation resolves {{resolve:ssm:...}} anywhere in a string property, so an element name can be
  // chosen at deploy time ("Principal"); a statement with a key the judgement cannot read fails closed.
  test('a string PolicyDocument with a dynamic reference as a statement key is public', () => {
    const template = {
      Resources: {
        RollPolicy: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Bucket: 'electoral-roll',
            PolicyDocument:
              '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","{{resolve:ssm:/registry/grantee}}":"*",' +
              `"Action":"s3:GetObject","Resource":"${OBJECTS}"}]}`,
          },
        },
      },
    };
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['RollPolicy']);
  });

  // Pin: a nested stack's output is unknown (docs/rules.md).
  test('a Principal from a nested stack output is public', () => {
    const template = templateWith(
      { Principal: { AWS: { 'Fn::GetAtt': ['Child', 'Outputs.ReaderArn'] } } },
      { Resources: { Child: { Type: 'AWS::CloudFormation::Stack', Properties: { TemplateURL: 'x' } } } },
    );
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).toEqual(['Roll']);
  });
});

describe('access points', () => {
  const openSettings = {
    BlockPublicAcls: false,
    IgnorePublicAcls: false,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  };

  function accessPointTemplate(properties: Record<string, unknown>): Record<string, unknown> {
    return {
      Conditions: { Open: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } },
      Resources: {
        Roll: { Type: 'AWS::S3::Bucket', Properties: { PublicAccessBlockConfiguration: BPA_ALL_ON } },
        Point: { Type: 'AWS::S3::AccessPoint', Properties: { Bucket: { Ref: 'Roll' }, ...properties } },
      },
    };
  }

  // docs/rules.md: both branches of every Fn::If are judged; the Open branch turns every setting off.
  test('PublicAccessBlockConfiguration off in one Fn::If branch is an error', () => {
    const template = accessPointTemplate({
      PublicAccessBlockConfiguration: { 'Fn::If': ['Open', openSettings, { Ref: 'AWS::NoValue' }] },
    });
    expect(errorsOf(template, 'RegistryGuard-S3PublicAccessPoint')).toEqual(['Point']);
  });

  // Pin: one setting off in one branch is caught.
  test('BlockPublicPolicy off in one Fn::If branch is an error', () => {
    const template = accessPointTemplate({
      PublicAccessBlockConfiguration: { BlockPublicPolicy: { 'Fn::If': ['Open', false, true] } },
    });
    expect(errorsOf(template, 'RegistryGuard-S3PublicAccessPoint')).toEqual(['Point']);
  });

  // An Fn::If past the 32-level limit is unknown; an unknown VpcConfiguration may be AWS::NoValue (internet).
  test('a VpcConfiguration nested past the Fn::If limit with AWS::NoValue inside faces the internet', () => {
    let vpcConfiguration: unknown = { Ref: 'AWS::NoValue' };
    for (let level = 0; level < 33; level += 1) {
      vpcConfiguration = { 'Fn::If': ['Open', vpcConfiguration, { VpcId: 'vpc-0abc' }] };
    }
    const template = accessPointTemplate({
      VpcConfiguration: vpcConfiguration,
      Policy: policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }),
    });
    expect(errorsOf(template, 'RegistryGuard-S3PublicAccessPoint')).toEqual(['Point']);
  });
});

describe('which bucket a policy is attached to', () => {
  // Two buckets may share a literal BucketName when their Conditions exclude each other; the policy then
  // attaches to whichever exists, here the one with Block Public Access unstated.
  test('a public policy naming a BucketName two conditional buckets share is an error', () => {
    const template = {
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
        NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      },
      Resources: {
        Open: { Type: 'AWS::S3::Bucket', Condition: 'NotProd', Properties: { BucketName: 'electoral-roll' } },
        Hardened: {
          Type: 'AWS::S3::Bucket',
          Condition: 'IsProd',
          Properties: { BucketName: 'electoral-roll', PublicAccessBlockConfiguration: BPA_ALL_ON },
        },
        RollPolicy: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: { Bucket: 'electoral-roll', PolicyDocument: policyOf(allow({ Principal: '*' })) },
        },
      },
    };
    expect(errorsOf(template, 'RegistryGuard-S3PublicPolicy')).not.toEqual([]);
  });
});

describe('registry classification', () => {
  // template-model.ts reads the tag "in any case: fail closed"; a value chosen at deploy time may be
  // sensitive-registry, so the bucket must meet the registry baseline.
  test('a bucket whose classification tag value is a parameter gets the registry baseline', () => {
    const template = {
      Parameters: { Classification: { Type: 'String' } },
      Resources: {
        Roll: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            PublicAccessBlockConfiguration: BPA_ALL_ON,
            Tags: [{ Key: 'registry-guard:classification', Value: { Ref: 'Classification' } }],
          },
        },
      },
    };
    expect(errorsOf(template, 'RegistryGuard-S3RegistryVersioning')).toEqual(['Roll']);
  });
});

describe('time', () => {
  // A hostile 3 KB template must not hang the check: Fn::FindInMap candidates chained through Mappings
  // are rendered once per path (2^levels) today.
  test('Fn::FindInMap chained through 20 Mappings is judged in well under a second', () => {
    const levels = 20;
    const mappings: Record<string, unknown> = {};
    for (let level = 0; level < levels; level += 1) {
      const next =
        level + 1 < levels
          ? { 'Fn::FindInMap': [`Level${level + 1}`, { Ref: 'AWS::Region' }, 'Id'] }
          : 'vpce-1a2b3c4d';
      mappings[`Level${level}`] = { 'eu-west-1': { Id: next }, 'eu-west-2': { Id: next } };
    }
    const endpoint = { 'Fn::FindInMap': ['Level0', { Ref: 'AWS::Region' }, 'Id'] };
    const template = JSON.parse(
      JSON.stringify(
        templateWith(
          {
            Principal: '*',
            Condition: { StringEquals: { 'aws:SourceVpce': { 'Fn::Sub': ['${E}', { E: endpoint }] } } },
          },
          { Mappings: mappings },
        ),
      ),
    ) as unknown;
    const started = Date.now();
    checkTemplate(template);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('pinned: shapes probed and judged right', () => {
  // S3 User Guide: "*" anywhere in a principal is public; a list where a string is expected is unreadable.
  test('Principal {"AWS": [["*"]]} is public', () => {
    expect(judgePolicy(policyOf(allow({ Principal: { AWS: [['*']] } }))).isPublic).toBe(true);
  });

  // S3 User Guide: IPv6 ranges broader than /32 are public.
  test('IpAddress aws:SourceIp 2002::/16 is public', () => {
    const statement = allow({ Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '2002::/16' } } });
    expect(judgePolicy(policyOf(statement)).isPublic).toBe(true);
  });

  // Only Deny grants nothing: an Effect S3 might read as Allow is judged as one.
  test('Effect "allow" with Principal "*" is public', () => {
    expect(judgePolicy(policyOf(allow({ Effect: 'allow', Principal: '*' }))).isPublic).toBe(true);
  });

  // IAM substitutes ${*} only under exactly 2012-10-17; "2012-10-17 " is not that version.
  test('Version "2012-10-17 " (trailing space) with StringEquals vpce-${*} is public', () => {
    const statement = allow({
      Principal: '*',
      Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-${*}' } },
    });
    expect(judgePolicy({ Version: '2012-10-17 ', Statement: [statement] }).isPublic).toBe(true);
  });

  // Null only tests presence; any endpoint anywhere would match.
  test('Null aws:SourceVpce false does not restrict Principal "*"', () => {
    const statement = allow({ Principal: '*', Condition: { Null: { 'aws:SourceVpce': 'false' } } });
    expect(judgePolicy(policyOf(statement)).isPublic).toBe(true);
  });

  // A fixed endpoint with StringEqualsIgnoreCase and a key in another case restricts (keys are case-insensitive).
  test('StringEqualsIgnoreCase AWS:SOURCEVPCE vpce-1a2b3c4d is not public', () => {
    const statement = allow({
      Principal: '*',
      Condition: { StringEqualsIgnoreCase: { 'AWS:SOURCEVPCE': 'VPCE-1A2B3C4D' } },
    });
    expect(judgePolicy(policyOf(statement)).isPublic).toBe(false);
  });
});
