/**
 * CloudFormation YAML: short forms read as long forms, aliases resolved inside them, unknown tags kept as
 * unreadable values, and hostile documents refused with one line, never printed warnings.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import {
  CLOUDFORMATION_TAGS,
  MAX_ALIAS_EXPANDED_VALUES,
  MAX_YAML_ALIASES,
  parseCloudFormationYaml,
} from '../../lib/cli/cloudformation-yaml';
import { EXIT_FINDINGS } from '../../lib/cli/run-cli';
import { CliResult, runCliCapturing, writeTempFile } from '../support/cli';

const REPO = path.resolve(__dirname, '../..');

function cli(...argv: string[]): CliResult {
  return runCliCapturing(argv);
}

function writeTemp(name: string, text: string): string {
  return writeTempFile('yaml', name, text);
}

function parseError(text: string): string {
  try {
    parseCloudFormationYaml(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the YAML to be refused');
}

/** A bucket policy whose Principal is the YAML given: public unless the principal is fixed. */
function policyTemplate(principal: string, before = ''): string {
  return [
    before,
    'Resources:',
    '  Roll:',
    '    Type: AWS::S3::Bucket',
    '    Properties:',
    '      PublicAccessBlockConfiguration:',
    '        {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false}',
    '  RollPolicy:',
    '    Type: AWS::S3::BucketPolicy',
    '    Properties:',
    '      Bucket: !Ref Roll',
    '      PolicyDocument:',
    '        Statement:',
    '          - Effect: Allow',
    `            Principal: ${principal}`,
    '            Action: s3:GetObject',
    '            Resource: !Sub "${Roll.Arn}/*"',
    '',
  ].join('\n');
}

function publicPolicyFindings(yaml: string): unknown[] {
  const result = cli('check', writeTemp('template.yaml', yaml), '--format', 'json');
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout).findings.filter(
    (finding: { ruleId: string }) => finding.ruleId === 'RegistryGuard-S3PublicPolicy',
  );
}

describe('short forms are read as long forms', () => {
  const functionTags = CLOUDFORMATION_TAGS.filter((tag) => !['Ref', 'Condition', 'GetAtt'].includes(tag));

  test.each(functionTags)('!%s [a, b] becomes its Fn:: long form', (tag) => {
    expect(parseCloudFormationYaml(`V: !${tag} [a, b]`)).toEqual({ V: { [`Fn::${tag}`]: ['a', 'b'] } });
  });

  test.each(functionTags)('!%s on a scalar and on a mapping', (tag) => {
    expect(parseCloudFormationYaml(`V: !${tag} text\nW: !${tag} {K: v}`)).toEqual({
      V: { [`Fn::${tag}`]: 'text' },
      W: { [`Fn::${tag}`]: { K: 'v' } },
    });
  });

  test('!Ref and !Condition keep their own names', () => {
    expect(parseCloudFormationYaml('A: !Ref Roll\nB: !Condition IsProd')).toEqual({
      A: { Ref: 'Roll' },
      B: { Condition: 'IsProd' },
    });
  });

  test('!GetAtt Resource.Attribute splits at the first dot; the list form is kept', () => {
    expect(
      parseCloudFormationYaml('A: !GetAtt Roll.Arn\nB: !GetAtt Db.Endpoint.Port\nC: !GetAtt [Roll, Arn]'),
    ).toEqual({
      A: { 'Fn::GetAtt': ['Roll', 'Arn'] },
      B: { 'Fn::GetAtt': ['Db', 'Endpoint.Port'] },
      C: { 'Fn::GetAtt': ['Roll', 'Arn'] },
    });
  });

  test('short forms nest', () => {
    expect(
      parseCloudFormationYaml("A: !Join ['', ['arn:', !Ref AWS::Partition, !Sub ':s3:::${Roll}']]"),
    ).toEqual({
      A: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, { 'Fn::Sub': ':s3:::${Roll}' }]] },
    });
  });

  test('YAML standard tags behave as YAML says', () => {
    expect(
      parseCloudFormationYaml(
        'A: !!str 123\nB: !!int "42"\nC: ! 7\nD: !!binary aGk=\nE: !!timestamp 2001-12-14\nF: !!map {k: v}\nG: !!seq [1]',
      ),
    ).toEqual({ A: '123', B: 42, C: '7', D: 'aGk=', E: '2001-12-14', F: { k: 'v' }, G: [1] });
  });
});

describe('an unknown tag is a value the judgement cannot read', () => {
  test('!Foo becomes Fn::Foo on scalars, sequences and mappings', () => {
    expect(parseCloudFormationYaml('A: !Foo x\nB: !Foo [x, y]\nC: !Foo {K: v}')).toEqual({
      A: { 'Fn::Foo': 'x' },
      B: { 'Fn::Foo': ['x', 'y'] },
      C: { 'Fn::Foo': { K: 'v' } },
    });
  });

  test('nothing is printed: no Node warning, no console output', () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const stderr = jest.spyOn(process.stderr, 'write');
    try {
      parseCloudFormationYaml('A: !Foo x\nB: !Bar [1]\nC: !!unknown z');
      expect(emitWarning).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
    }
  });

  test('a principal built by an unknown function counts as public, and the CLI prints no warning', () => {
    expect(publicPolicyFindings(policyTemplate('{AWS: !Foo someone}'))).toHaveLength(1);
  });
});

describe('aliases resolve against the document, inside short forms too', () => {
  test('an alias inside !If', () => {
    expect(parseCloudFormationYaml('Anyone: &anyone "*"\nWho: !If [IsOpen, *anyone, nobody]')).toEqual({
      Anyone: '*',
      Who: { 'Fn::If': ['IsOpen', '*', 'nobody'] },
    });
  });

  test('an alias inside the variables of !Sub', () => {
    expect(
      parseCloudFormationYaml('Base: &base arn:aws:s3:::roll\nArn: !Sub ["${B}/*", {B: *base}]'),
    ).toEqual({
      Base: 'arn:aws:s3:::roll',
      Arn: { 'Fn::Sub': ['${B}/*', { B: 'arn:aws:s3:::roll' }] },
    });
  });

  test('an alias to a short form repeats the long form', () => {
    expect(parseCloudFormationYaml('A: &bucket !Ref Roll\nB: *bucket')).toEqual({
      A: { Ref: 'Roll' },
      B: { Ref: 'Roll' },
    });
  });

  test('an alias refers to the last anchor of its name before it', () => {
    expect(parseCloudFormationYaml('a: &x 1\nb: *x\nc: &x 2\nd: *x')).toEqual({ a: 1, b: 1, c: 2, d: 2 });
  });

  test('the public principal an alias brings into !If is found', () => {
    const template = policyTemplate(
      '!If [IsOpen, *anyone, {AWS: arn:aws:iam::111122223333:root}]',
      'Anyone: &anyone "*"',
    );
    expect(publicPolicyFindings(template)).toHaveLength(1);
  });

  test.each([
    [
      'an alias before its anchor',
      'a: *x\nb: &x 1',
      /alias \*x has no anchor &x before it \(line 1, column 4\)/,
    ],
    ['an alias inside its own anchor', 'a: &a [*a]', /alias \*a refers to a node that contains it/],
  ])('%s is refused', (_name, text, message) => {
    expect(parseError(text)).toMatch(message);
  });

  test(`${MAX_YAML_ALIASES} aliases are read; one more is refused`, () => {
    const aliases = (count: number) =>
      `x: &x 1\n${Array.from({ length: count }, (_, index) => `k${index}: *x`).join('\n')}`;
    expect(Object.keys(parseCloudFormationYaml(aliases(MAX_YAML_ALIASES)) as object)).toHaveLength(
      MAX_YAML_ALIASES + 1,
    );
    expect(parseError(aliases(MAX_YAML_ALIASES + 1))).toMatch(/more than 100 aliases/);
  });

  test(`a billion laughs is refused past ${MAX_ALIAS_EXPANDED_VALUES} expanded values`, () => {
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level < 9; level += 1) {
      const previous = `*a${level - 1}`;
      lines.push(`a${level}: &a${level} [${Array(9).fill(previous).join(', ')}]`);
    }
    const started = Date.now();
    expect(parseError(lines.join('\n'))).toMatch(
      /aliases expand to more than 100000 values \(an alias bomb\?\)/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('malformed YAML is one line naming where', () => {
  test('a syntax error gives its line and column', () => {
    const message = parseError('Resources:\n  A: [unclosed\n  B: 1\n');
    expect(message).toMatch(/\(line \d+, column \d+\)$/);
    expect(message.split('\n')).toHaveLength(1);
  });

  test('two documents are refused: a template is one', () => {
    expect(parseError('a: 1\n---\nb: 2\n')).toMatch(
      /a template is one YAML document; another one starts \(line 2/,
    );
  });

  test('a collection as a mapping key is refused', () => {
    expect(parseError('? [a]\n: 1')).toMatch(/a mapping key is a collection or a tagged value/);
  });

  test('collections nested 256 deep are refused, a real template depth is read', () => {
    expect(parseError(`a: ${'['.repeat(300)}${']'.repeat(300)}`)).toMatch(
      /nested more than 256 collections deep/,
    );
    expect(parseCloudFormationYaml(`a: ${'['.repeat(100)}${']'.repeat(100)}`)).toBeDefined();
  });

  test('an empty document is null', () => {
    expect(parseCloudFormationYaml('')).toBeNull();
  });
});

describe('keys read as JSON.parse reads them', () => {
  test('of duplicate keys the last wins', () => {
    expect(parseCloudFormationYaml('a: 1\na: 2')).toEqual({ a: 2 });
  });

  test('__proto__ is an ordinary key, never the prototype', () => {
    const parsed = parseCloudFormationYaml('__proto__: {polluted: true}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('scalar keys are strings; a null key is the empty string', () => {
    expect(parseCloudFormationYaml('1: a\ntrue: b\n~: c')).toEqual({ '1': 'a', true: 'b', '': 'c' });
  });
});

describe('the yaml package loads only for YAML templates', () => {
  test('checking a JSON template does not load it; checking a YAML one does', () => {
    const script = `
      const { runCli } = require(${JSON.stringify(path.join(REPO, 'lib/cli/run-cli'))});
      const loaded = () => Boolean(require.cache[require.resolve('yaml')]);
      const io = { stdout: () => undefined, stderr: () => undefined, isTty: false, version: 'test' };
      runCli(['check', ${JSON.stringify(path.join(REPO, 'test/fixtures/templates/leaky.template.json'))}], io);
      const afterJson = loaded();
      runCli(['check', ${JSON.stringify(path.join(REPO, 'test/fixtures/templates/leaky.template.yaml'))}], io);
      console.log(JSON.stringify({ afterJson, afterYaml: loaded() }));
    `;
    const result = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'), ['-e', script], {
      encoding: 'utf8',
      cwd: REPO,
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ afterJson: false, afterYaml: true });
  });

  test('the leaky YAML fixture still reads as its JSON twin', () => {
    const strip = (findings: { path: string }[]) => findings.map(({ path: _path, ...finding }) => finding);
    const fromJson = cli(
      'check',
      path.join(REPO, 'test/fixtures/templates/leaky.template.json'),
      '--format',
      'json',
    );
    const fromYaml = cli(
      'check',
      path.join(REPO, 'test/fixtures/templates/leaky.template.yaml'),
      '--format',
      'json',
    );
    expect(fromYaml.code).toBe(EXIT_FINDINGS);
    expect(strip(JSON.parse(fromYaml.stdout).findings)).toEqual(strip(JSON.parse(fromJson.stdout).findings));
  });
});
