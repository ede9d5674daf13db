import fc from 'fast-check';
import { judgePolicy } from '../../lib/exposure/policy';

// Building blocks drawn from the shapes real bucket policies take.
const account = fc.stringMatching(/^[0-9]{12}$/);
const fixedPrincipal = fc.oneof(
  account.map((id) => ({ AWS: `arn:aws:iam::${id}:root` })),
  account.map((id) => ({ AWS: id })),
  fc
    .constantFrom('cloudtrail.amazonaws.com', 'logging.s3.amazonaws.com')
    .map((service) => ({ Service: service })),
);
const anyPrincipal = fc.oneof(fixedPrincipal, fc.constant('*'), fc.constant({ AWS: '*' }));
const actions = fc.constantFrom('s3:GetObject', 's3:PutObject', 's3:*', ['s3:GetObject', 's3:ListBucket']);
const resources = fc.constantFrom('arn:aws:s3:::roll/*', ['arn:aws:s3:::roll', 'arn:aws:s3:::roll/*'], '*');
const conditionKey = fc.constantFrom(
  'aws:SourceVpce',
  'aws:SourceAccount',
  'aws:SourceArn',
  's3:prefix',
  'aws:SecureTransport',
);
const conditionOperator = fc.constantFrom(
  'StringEquals',
  'StringNotEquals',
  'StringLike',
  'StringEqualsIfExists',
  'Bool',
);
const conditionValue = fc.constantFrom('vpce-1a2b3c4d', '*', 'vpce-*', '111122223333', 'true');
const condition = fc.option(
  fc
    .tuple(conditionOperator, conditionKey, conditionValue)
    .map(([op, key, value]) => ({ [op]: { [key]: value } })),
  { nil: undefined },
);
const statement = fc
  .record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    Principal: anyPrincipal,
    Action: actions,
    Resource: resources,
    Condition: condition,
  })
  .map((s) => (s.Condition === undefined ? { ...s, Condition: undefined } : s))
  .map(({ Condition, ...rest }) => (Condition === undefined ? rest : { ...rest, Condition }));
const statements = fc.array(statement, { maxLength: 6 });

const unconditionalPublicRead = {
  Effect: 'Allow',
  Principal: '*',
  Action: 's3:GetObject',
  Resource: 'arn:aws:s3:::roll/*',
};

describe('judgePolicy invariants', () => {
  test('adding an unconditional Principal "*" Allow of s3:GetObject always makes a policy public', () => {
    fc.assert(
      fc.property(statements, fc.nat(), (existing, position) => {
        const at = existing.length === 0 ? 0 : position % (existing.length + 1);
        const policy = {
          Statement: [...existing.slice(0, at), unconditionalPublicRead, ...existing.slice(at)],
        };
        expect(judgePolicy(policy).isPublic).toBe(true);
      }),
    );
  });

  test('adding a fixed aws:SourceVpce condition to every Allow never leaves one public', () => {
    fc.assert(
      fc.property(statements, (existing) => {
        const restricted = existing.map((s) =>
          s.Effect === 'Allow'
            ? {
                ...s,
                Condition: {
                  ...((s as { Condition?: Record<string, unknown> }).Condition ?? {}),
                  StringEquals: {
                    ...(((s as { Condition?: Record<string, Record<string, unknown>> }).Condition ?? {})
                      .StringEquals ?? {}),
                    'aws:SourceVpce': 'vpce-0a1b2c3d',
                  },
                },
              }
            : s,
        );
        expect(judgePolicy({ Statement: restricted }).isPublic).toBe(false);
      }),
    );
  });

  test('reordering statements never changes the verdict', () => {
    fc.assert(
      fc.property(
        statements.chain((list) =>
          fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })),
        ),
        ([original, shuffled]) => {
          expect(judgePolicy({ Statement: shuffled }).isPublic).toBe(
            judgePolicy({ Statement: original }).isPublic,
          );
        },
      ),
    );
  });

  test('Deny statements alone are never public', () => {
    fc.assert(
      fc.property(statements, (existing) => {
        const denies = existing.map((s) => ({ ...s, Effect: 'Deny' }));
        expect(judgePolicy({ Statement: denies }).isPublic).toBe(false);
      }),
    );
  });

  test('a policy is public exactly when some single statement is public on its own', () => {
    fc.assert(
      fc.property(statements, (existing) => {
        const anyAlonePublic = existing.some((s) => judgePolicy({ Statement: [s] }).isPublic);
        expect(judgePolicy({ Statement: existing }).isPublic).toBe(anyAlonePublic);
      }),
    );
  });

  test('the verdict is the same for the policy object and its JSON text, and condition key case does not matter', () => {
    fc.assert(
      fc.property(statements, (existing) => {
        const policy = { Statement: existing };
        const upperKeys = JSON.parse(
          JSON.stringify(policy).replace(/"(aws|s3):([A-Za-z]+)"/g, (m) => m.toUpperCase()),
        );
        const verdict = judgePolicy(policy).isPublic;
        expect(judgePolicy(JSON.stringify(policy)).isPublic).toBe(verdict);
        expect(judgePolicy(upperKeys).isPublic).toBe(verdict);
      }),
    );
  });
});

describe('judgePolicy fails closed on unknown values', () => {
  const context = {
    parameterNames: new Set(['Param']),
    resourceTypeOf: (logicalId: string) =>
      ({ Lookup: 'Custom::Lookup', Child: 'AWS::CloudFormation::Stack' })[logicalId],
  };
  const unknownValue = fc.constantFrom<unknown>(
    { Ref: 'Param' },
    '{{resolve:ssm:/registry/value}}',
    { 'Fn::Sub': '{{resolve:secretsmanager:value}}' },
    { 'Fn::GetAtt': ['Lookup', 'Value'] },
    { 'Fn::GetAtt': ['Child', 'Outputs.Value'] },
    { 'Fn::ImportValue': 'shared-value' },
    { 'Fn::Unknown': 'value' },
    { Ref: 'AWS::NoValue' },
    { 'Fn::If': ['Cond', 'vpce-0a1b2c3d', { Ref: 'Param' }] },
    { 'Fn::If': ['Cond', { Ref: 'AWS::NoValue' }, 'vpce-0a1b2c3d'] },
  );
  const restrictingCondition = fc.constantFrom(
    ['StringEquals', 'aws:SourceVpce', 'vpce-0a1b2c3d'],
    ['StringEquals', 'aws:PrincipalOrgID', 'o-a1b2c3d4e5'],
    ['ArnEquals', 'aws:SourceArn', 'arn:aws:cloudtrail:us-east-1:111122223333:trail/registry'],
    ['StringLike', 'aws:SourceAccount', '111122223333'],
    ['IpAddress', 'aws:SourceIp', '203.0.113.0/24'],
  );

  test('a restriction whose only restricting value is unknown never makes "*" private', () => {
    fc.assert(
      fc.property(restrictingCondition, unknownValue, fc.nat(3), (restriction, unknown, position) => {
        const [operator, key, fixed] = restriction;
        // AWS::NoValue removes only itself: beside fixed values it leaves a restriction, so it stands alone.
        const removesItself = JSON.stringify(unknown).includes('AWS::NoValue');
        const values = removesItself
          ? [unknown]
          : [fixed, fixed, fixed].map((value, index) => (index === position % 3 ? unknown : value));
        const statement = {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::roll/*',
          Condition: { [operator]: { [key]: values } },
        };
        expect(judgePolicy({ Version: '2012-10-17', Statement: [statement] }, { context }).isPublic).toBe(
          true,
        );
      }),
    );
  });

  test('a principal list with one unknown whole member is never private', () => {
    fc.assert(
      fc.property(
        fc.array(account, { minLength: 0, maxLength: 3 }),
        unknownValue,
        fc.nat(),
        (ids, unknown, at) => {
          if (JSON.stringify(unknown).includes('AWS::NoValue')) return;
          const members: unknown[] = ids.map((id) => `arn:aws:iam::${id}:root`);
          members.splice(at % (members.length + 1), 0, unknown);
          const statement = {
            Effect: 'Allow',
            Principal: { AWS: members },
            Action: 's3:GetObject',
            Resource: '*',
          };
          expect(judgePolicy({ Version: '2012-10-17', Statement: [statement] }, { context }).isPublic).toBe(
            true,
          );
        },
      ),
    );
  });
});
