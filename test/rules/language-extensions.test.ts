/**
 * Fn::ForEach (AWS::LanguageExtensions) expanded as CloudFormation expands it, so the rules see what a loop
 * creates; loops over values known only at deploy time still produce something the rules check.
 */
import { EXIT_FINDINGS, EXIT_USAGE } from '../../lib/cli/run-cli';
import { CliResult, runCliCapturing, writeTempFile } from '../support/cli';
import {
  expandForEach,
  MAX_FOR_EACH_NESTING,
  MAX_GENERATED_KEYS,
  MAX_TEMPLATE_DEPTH,
  TemplateExpansionError,
  UNKNOWN_ITEM_FUNCTION,
} from '../../rules/language-extensions';

function cli(...argv: string[]): CliResult {
  return runCliCapturing(argv);
}

function writeTemp(name: string, text: string): string {
  return writeTempFile('foreach', name, text);
}

function expansionError(template: unknown): string {
  try {
    expandForEach(template);
  } catch (error) {
    expect(TemplateExpansionError.isTemplateExpansionError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the expansion to be refused');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

const BUCKET = { Type: 'AWS::S3::Bucket' };

describe('expandForEach: literal collections', () => {
  test('a template without loops is returned as it is', () => {
    const template = deepFreeze({ Resources: { Roll: BUCKET }, Outputs: { A: { Value: { Ref: 'Roll' } } } });
    expect(expandForEach(template)).toBe(template);
  });

  test('each item of the list gives the output map once, ${} and &{} filled in the keys', () => {
    const template = deepFreeze({
      Resources: {
        Existing: BUCKET,
        'Fn::ForEach::Buckets': [
          'Name',
          ['logs', 'data-lake'],
          { 'Bucket${Name}': BUCKET, 'Queue&{Name}': BUCKET },
        ],
      },
    });
    expect(expandForEach(template)).toEqual({
      Resources: {
        Existing: BUCKET,
        Bucketlogs: BUCKET,
        Queuelogs: BUCKET,
        'Bucketdata-lake': BUCKET,
        Queuedatalake: BUCKET,
      },
    });
  });

  test('Ref to the identifier becomes the item; ${Identifier} and &{Identifier} in Fn::Sub too', () => {
    const expanded = expandForEach({
      Resources: {
        'Fn::ForEach::Topics': [
          'Name',
          ['a-1'],
          {
            'Topic&{Name}': {
              Type: 'AWS::SNS::Topic',
              Properties: {
                TopicName: { Ref: 'Name' },
                DisplayName: { 'Fn::Sub': '${Name} in ${AWS::Region}, &{Name}, ${!Name}' },
                Other: { Ref: 'AWS::Region' },
                Plain: '${Name} stays: plain strings are not substituted',
              },
            },
          },
        ],
      },
    }) as { Resources: Record<string, { Properties: unknown }> };
    expect(expanded.Resources.Topica1.Properties).toEqual({
      TopicName: 'a-1',
      DisplayName: { 'Fn::Sub': 'a-1 in ${AWS::Region}, a1, ${!Name}' },
      Other: { Ref: 'AWS::Region' },
      Plain: '${Name} stays: plain strings are not substituted',
    });
  });

  test('a Fn::Sub variable of the same name wins over the identifier', () => {
    const expanded = expandForEach({
      Resources: {
        'Fn::ForEach::X': [
          'Name',
          ['a'],
          {
            'R${Name}': {
              Type: 'T',
              Properties: {
                Shadowed: { 'Fn::Sub': ['${Name}', { Name: 'fixed' }] },
                Filled: { 'Fn::Sub': ['${Name}-${Other}', { Other: { Ref: 'Name' } }] },
              },
            },
          },
        ],
      },
    }) as { Resources: Record<string, { Properties: unknown }> };
    expect(expanded.Resources.Ra.Properties).toEqual({
      Shadowed: { 'Fn::Sub': ['${Name}', { Name: 'fixed' }] },
      Filled: { 'Fn::Sub': ['a-${Other}', { Other: 'a' }] },
    });
  });

  test('the aws-cloudformation-templates outputs example: nested loops, !GetAtt [!Sub ..., !Ref ...]', () => {
    const expanded = expandForEach({
      Outputs: {
        'Fn::ForEach::BucketOutputs': [
          'Identifier',
          ['A', 'B'],
          {
            'Fn::ForEach::GetAttLoop': [
              'Property',
              ['Arn', 'DomainName'],
              {
                'S3Bucket${Identifier}${Property}': {
                  Value: { 'Fn::GetAtt': [{ 'Fn::Sub': 'S3Bucket${Identifier}' }, { Ref: 'Property' }] },
                },
              },
            ],
          },
        ],
      },
    });
    expect(expanded).toEqual({
      Outputs: {
        S3BucketAArn: { Value: { 'Fn::GetAtt': ['S3BucketA', 'Arn'] } },
        S3BucketADomainName: { Value: { 'Fn::GetAtt': ['S3BucketA', 'DomainName'] } },
        S3BucketBArn: { Value: { 'Fn::GetAtt': ['S3BucketB', 'Arn'] } },
        S3BucketBDomainName: { Value: { 'Fn::GetAtt': ['S3BucketB', 'DomainName'] } },
      },
    });
  });

  test('loops expand in Conditions and inside property maps', () => {
    const expanded = expandForEach({
      Conditions: {
        'Fn::ForEach::Envs': [
          'Env',
          ['Prod'],
          { 'Is${Env}': { 'Fn::Equals': [{ Ref: 'Stage' }, { Ref: 'Env' }] } },
        ],
      },
      Resources: {
        Roll: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Condition: {
              StringEquals: {
                'Fn::ForEach::Keys': ['Key', ['team', 'app'], { 'aws:PrincipalTag/${Key}': 'roll' }],
              },
            },
          },
        },
      },
    });
    expect(expanded).toEqual({
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'Prod'] } },
      Resources: {
        Roll: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Condition: { StringEquals: { 'aws:PrincipalTag/team': 'roll', 'aws:PrincipalTag/app': 'roll' } },
          },
        },
      },
    });
  });

  test('a collection held in Mappings under literal keys is read from there', () => {
    const expanded = expandForEach({
      Mappings: { Buckets: { Names: { List: ['A', 'B'] } } },
      Resources: {
        'Fn::ForEach::Buckets': [
          'Id',
          { 'Fn::FindInMap': ['Buckets', 'Names', 'List'] },
          { 'S3Bucket${Id}': BUCKET },
        ],
      },
    }) as { Resources: object };
    expect(Object.keys(expanded.Resources)).toEqual(['S3BucketA', 'S3BucketB']);
  });

  test('the argument is never modified, and __proto__ stays an ordinary key', () => {
    const template = deepFreeze(
      JSON.parse(
        '{"Resources": {"Fn::ForEach::X": ["N", ["a"], {"R${N}": {"Type": "T", "Metadata": {"__proto__": {"x": 1}}}}]}}',
      ),
    );
    const expanded = expandForEach(template) as { Resources: { Ra: { Metadata: object } } };
    expect(Object.keys(expanded.Resources.Ra.Metadata)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(expanded.Resources.Ra.Metadata)).toBe(Object.prototype);
  });
});

describe('expandForEach: collections known only at deploy time', () => {
  const unknown = (identifier: string) => ({ [UNKNOWN_ITEM_FUNCTION]: identifier });

  test('a Ref to a list parameter expands once, the identifier standing for an unknown value', () => {
    const expanded = expandForEach({
      Resources: {
        'Fn::ForEach::Buckets': [
          'Name',
          { Ref: 'BucketNames' },
          {
            'Bucket${Name}': { Type: 'AWS::S3::Bucket', Properties: { BucketName: { Ref: 'Name' } } },
            'Bucket${Name}Policy': {
              Type: 'AWS::S3::BucketPolicy',
              Properties: {
                Bucket: { Ref: { 'Fn::Sub': 'Bucket${Name}' } },
                Resource: { 'Fn::Sub': 'arn:aws:s3:::${Name}/*' },
                Other: { 'Fn::Sub': ['${Name}-${X}', { X: 'x' }] },
              },
            },
          },
        ],
      },
    });
    expect(expanded).toEqual({
      Resources: {
        BucketName: { Type: 'AWS::S3::Bucket', Properties: { BucketName: unknown('Name') } },
        BucketNamePolicy: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Bucket: { Ref: 'BucketName' },
            Resource: { 'Fn::Sub': ['arn:aws:s3:::${Name}/*', { Name: unknown('Name') }] },
            Other: { 'Fn::Sub': ['${Name}-${X}', { X: 'x', Name: unknown('Name') }] },
          },
        },
      },
    });
  });

  test('a list mixing literals and intrinsics expands each literal, and once more for the rest', () => {
    const expanded = expandForEach({
      Resources: { 'Fn::ForEach::B': ['Id', ['A', { Ref: 'More' }], { 'Bucket${Id}': BUCKET }] },
    }) as { Resources: object };
    expect(Object.keys(expanded.Resources)).toEqual(['BucketA', 'BucketId']);
  });
});

describe('expandForEach: malformed loops and limits are refused with one line', () => {
  test.each<[string, unknown, RegExp]>([
    [
      'a loop that is not a list of three',
      { 'Fn::ForEach::X': ['Id', ['a']] },
      /Fn::ForEach::X: expected \[identifier, collection, output map\]/,
    ],
    [
      'an output map that is a list',
      { 'Fn::ForEach::X': ['Id', ['a'], []] },
      /expected \[identifier, collection, output map\]/,
    ],
    [
      'a key generated twice',
      { 'Fn::ForEach::X': ['Id', ['a', 'a'], { 'B${Id}': BUCKET }] },
      /generates the key 'Ba' twice/,
    ],
    [
      'a key the template already has',
      { Ba: BUCKET, 'Fn::ForEach::X': ['Id', ['a'], { 'B${Id}': BUCKET }] },
      /generates the key 'Ba' twice \(or a key the template already has\)/,
    ],
    [
      'an identifier reused by a nested loop',
      { 'Fn::ForEach::X': ['Id', ['a'], { 'Fn::ForEach::Y': ['Id', ['b'], { 'B${Id}': BUCKET }] }] },
      /Fn::ForEach::Y: the identifier 'Id' is already the identifier of an enclosing loop/,
    ],
  ])('%s', (_name, resources, message) => {
    expect(expansionError({ Resources: resources })).toMatch(message);
  });

  test(`loops nested ${MAX_FOR_EACH_NESTING} deep expand; one more level is refused`, () => {
    const nested = (levels: number): Record<string, unknown> => {
      let outputMap: Record<string, unknown> = {
        [`B${Array.from({ length: levels }, (_, level) => `\${I${level}}`).join('')}`]: BUCKET,
      };
      for (let level = levels - 1; level >= 0; level -= 1) {
        outputMap = { [`Fn::ForEach::L${level}`]: [`I${level}`, ['x'], outputMap] };
      }
      return outputMap;
    };
    expect(expandForEach({ Resources: nested(MAX_FOR_EACH_NESTING) })).toEqual({
      Resources: { Bxxxxx: BUCKET },
    });
    expect(expansionError({ Resources: nested(MAX_FOR_EACH_NESTING + 1) })).toMatch(
      /Fn::ForEach::L5: Fn::ForEach loops are nested more than 5 deep, CloudFormation's limit/,
    );
  });

  test(`more than ${MAX_GENERATED_KEYS} generated keys are refused, quickly`, () => {
    const items = Array.from({ length: 400 }, (_, index) => `i${index}`);
    const started = Date.now();
    const message = expansionError({
      Resources: {
        'Fn::ForEach::Outer': ['A', items, { 'Fn::ForEach::Inner': ['B', items, { 'R${A}${B}': BUCKET }] }],
      },
    });
    expect(message).toMatch(/Fn::ForEach loops generate more than 100000 keys/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('values multiplied past the budget are refused', () => {
    const items = Array.from({ length: 100 }, (_, index) => `i${index}`);
    const wide = { Type: 'T', Properties: { List: Array.from({ length: 1000 }, () => ({ Ref: 'B' })) } };
    const message = expansionError({
      Resources: {
        'Fn::ForEach::Outer': ['A', items, { 'Fn::ForEach::Inner': ['B', items, { 'R${A}${B}': wide }] }],
      },
    });
    expect(message).toMatch(/Fn::ForEach loops generate more than 1000000 values/);
  });

  test(`templates nested more than ${MAX_TEMPLATE_DEPTH} deep are refused, never a stack overflow`, () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 100_000; level += 1) deep = [deep];
    expect(expansionError({ Resources: deep })).toMatch(/nested more than 512 levels deep/);
  });
});

/**
 * The aws-cloudformation-templates ForEach example (CloudFormation/fn-foreach-s3-outputs.yaml) with a bucket
 * policy in the loop: its principal comes from Mappings, and bucket C's is everyone.
 */
const FOR_EACH_BUCKETS = `AWSTemplateFormatVersion: "2010-09-09"
Description: Fn::ForEach creates three buckets and their policies; the policy of C grants to everyone
Transform: AWS::LanguageExtensions
Mappings:
  Readers:
    A: { Principal: "arn:aws:iam::111122223333:root" }
    B: { Principal: "arn:aws:iam::444455556666:root" }
    C: { Principal: "*" }
Resources:
  Fn::ForEach::Buckets:
    - Identifier
    - - A
      - B
      - C
    - S3Bucket\${Identifier}:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault:
                  SSEAlgorithm: AES256
          PublicAccessBlockConfiguration:
            BlockPublicAcls: true
            BlockPublicPolicy: false
            IgnorePublicAcls: true
            RestrictPublicBuckets: false
        DeletionPolicy: Retain
        UpdateReplacePolicy: Retain
      S3Bucket\${Identifier}Policy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref
            Fn::Sub: S3Bucket\${Identifier}
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal:
                  AWS: !FindInMap [Readers, !Ref Identifier, Principal]
                Action: s3:GetObject
                Resource: !Sub "arn:\${AWS::Partition}:s3:::\${S3Bucket\${Identifier}}/*"
Outputs:
  Fn::ForEach::BucketOutputs:
    - Identifier
    - - A
      - B
      - C
    - Fn::ForEach::GetAttLoop:
        - Property
        - - Arn
        - S3Bucket\${Identifier}\${Property}:
            Value: !GetAtt
              - !Sub S3Bucket\${Identifier}
              - !Ref Property
`;

interface JsonFinding {
  ruleId: string;
  resource: string;
}

function publicPolicyResources(file: string): string[] {
  const result = cli('check', file, '--format', 'json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(EXIT_FINDINGS);
  return (JSON.parse(result.stdout).findings as JsonFinding[])
    .filter((finding) => finding.ruleId === 'RegistryGuard-S3PublicPolicy')
    .map((finding) => finding.resource);
}

describe('registry-guard check reads Fn::ForEach templates', () => {
  test('the bucket a loop makes public is reported under its expanded logical id', () => {
    expect(publicPolicyResources(writeTemp('foreach.template.yaml', FOR_EACH_BUCKETS))).toEqual([
      'S3BucketC',
    ]);
  });

  test('a loop over a list parameter is still checked: a principal built from the item counts as public', () => {
    const overParameter = FOR_EACH_BUCKETS.replace(
      'Resources:\n  Fn::ForEach::Buckets:\n    - Identifier\n    - - A\n      - B\n      - C\n',
      'Parameters:\n  Names: { Type: CommaDelimitedList }\nResources:\n  Fn::ForEach::Buckets:\n    - Identifier\n    - !Ref Names\n',
    ).replace('AWS: !FindInMap [Readers, !Ref Identifier, Principal]', 'AWS: !Ref Identifier');
    expect(overParameter).toContain('- !Ref Names');
    expect(publicPolicyResources(writeTemp('foreach-parameter.template.yaml', overParameter))).toEqual([
      'S3BucketIdentifier',
    ]);
  });

  test('a malformed loop is exit 2 with one line naming the file and the loop', () => {
    const file = writeTemp(
      'bad-loop.json',
      JSON.stringify({ Resources: { 'Fn::ForEach::Buckets': ['Id', ['A']] } }),
    );
    const result = cli('check', file);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toMatch(
      /bad-loop\.json: Fn::ForEach::Buckets: expected \[identifier, collection, output map\]/,
    );
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
