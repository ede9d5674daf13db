import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, runCli } from '../../lib/cli/run-cli';
import { CliResult, runCliCapturing, tempDirectory, writeTempFile } from '../support/cli';

const REPO = path.resolve(__dirname, '../..');
const GOLDEN = path.join(REPO, 'test/fixtures/golden');

/** Runs the CLI in-process from the repository root, so paths in reports are stable. */
function cli(...argv: string[]): CliResult {
  return runCliCapturing(argv, REPO);
}

function tempDir(): string {
  return tempDirectory('cli');
}

function writeTemp(name: string, text: string): string {
  return writeTempFile('cli', name, text);
}

/** Compares with a golden file; `UPDATE_GOLDEN=1 npx jest test/cli` rewrites them after a deliberate change. */
function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual);
  expect(actual).toEqual(fs.readFileSync(file, 'utf8'));
}

const LEAKY = 'test/fixtures/templates/leaky.template.json';

describe('registry-guard check: report formats (golden)', () => {
  test.each([
    ['text', 'leaky.text.txt'],
    ['json', 'leaky.json'],
    ['sarif', 'leaky.sarif.json'],
    ['junit', 'leaky.junit.xml'],
  ])('--format %s', (format, golden) => {
    const result = cli('check', LEAKY, '--format', format);
    expect(result.code).toBe(EXIT_FINDINGS);
    expect(result.stderr).toBe('');
    expectGolden(golden, result.stdout);
  });

  test('json has one object with findings and summary, and the acknowledged rule is absent', () => {
    const report = JSON.parse(cli('check', LEAKY, '--format', 'json').stdout);
    expect(Object.keys(report)).toEqual(['findings', 'summary']);
    expect(report.findings[0]).toEqual({
      ruleId: 'RegistryGuard-S3PublicPolicy',
      level: 'error',
      resource: 'RollBucket',
      path: LEAKY,
      message: expect.stringContaining("'0.0.0.0/0' is broader than /8"),
    });
    const archive = report.findings.filter(
      (finding: { resource: string }) => finding.resource === 'ArchiveBucket',
    );
    expect(archive).toEqual([]);
  });

  test('sarif is SARIF 2.1.0 with rule metadata and a line for each result', () => {
    const sarif = JSON.parse(cli('check', LEAKY, '--format', 'sarif').stdout);
    expect(sarif.version).toBe('2.1.0');
    const driver = sarif.runs[0].tool.driver;
    expect(driver.rules.map((rule: { id: string }) => rule.id)).toContain('RegistryGuard-S3PublicPolicy');
    const result = sarif.runs[0].results[0];
    expect(driver.rules[result.ruleIndex].id).toBe(result.ruleId);
    expect(result.locations[0].physicalLocation.region.startLine).toBe(5);
  });

  test('junit has one test case per resource and rule, and skips acknowledged ones', () => {
    const junit = cli('check', LEAKY, '--format', 'junit').stdout;
    // 17 bucket rules for each of the two buckets, and the policy rule on the bucket policy itself.
    expect(junit.match(/<testcase /g)).toHaveLength(35);
    // The public grant on the registry is also a grant outside its zone of trust.
    expect(junit.match(/<failure /g)).toHaveLength(10);
    expect(junit).toContain('name="ArchiveBucket RegistryGuard-S3BlockPublicAccessUnstated"');
    expect(junit.match(/<skipped /g)).toHaveLength(1);
  });

  test('text is plain when not on a terminal, coloured when it is', () => {
    expect(cli('check', LEAKY).stdout).not.toContain('\u001b[');
    let coloured = '';
    runCli(['check', path.join(REPO, LEAKY)], {
      stdout: (text) => (coloured += text),
      stderr: () => undefined,
      isTty: true,
      version: 'test',
    });
    expect(coloured).toContain('\u001b[31merror');
  });

  test('--output writes the report to a file and nothing to stdout', () => {
    const output = path.join(tempDir(), 'report.sarif');
    const result = cli('check', LEAKY, '--format', 'sarif', '--output', output);
    expect(result.code).toBe(EXIT_FINDINGS);
    expect(result.stdout).toBe('');
    expect(JSON.parse(fs.readFileSync(output, 'utf8')).version).toBe('2.1.0');
  });
});

describe('registry-guard check: exit codes', () => {
  test('0 when nothing reaches --fail-on', () => {
    expect(cli('check', 'test/fixtures/templates/private-by-intrinsics.template.yaml').code).toBe(EXIT_OK);
    expect(cli('check', LEAKY, '--fail-on', 'never').code).toBe(EXIT_OK);
  });

  test('1 on an error finding; --fail-on warning also fails on warnings alone', () => {
    expect(cli('check', LEAKY).code).toBe(EXIT_FINDINGS);
    const corsOnly = writeTemp(
      'cors.json',
      JSON.stringify({
        Resources: {
          Roll: {
            Type: 'AWS::S3::Bucket',
            Properties: {
              CorsConfiguration: { CorsRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
              // Stated, not acknowledged: RegistryGuard-S3BlockPublicAccess cannot be acknowledged on a registry.
              PublicAccessBlockConfiguration: {
                BlockPublicAcls: true,
                IgnorePublicAcls: true,
                BlockPublicPolicy: true,
                RestrictPublicBuckets: true,
              },
              Tags: [{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }],
            },
            Metadata: {
              cdk_nag: {
                rules_to_suppress: [
                  'S3RegistryKmsEncryption',
                  'S3RegistryTlsOnly',
                  'S3RegistryVersioning',
                  'S3RegistryAccessLogging',
                  'S3RegistryOwnershipEnforced',
                  'S3RegistryRetained',
                ].map((name) => ({ id: `RegistryGuard-${name}`, reason: 'test' })),
              },
            },
          },
        },
      }),
    );
    expect(cli('check', corsOnly).code).toBe(EXIT_OK);
    expect(cli('check', corsOnly, '--fail-on', 'warning').code).toBe(EXIT_FINDINGS);
  });

  test.each<[string, string[], RegExp]>([
    [
      'a missing file',
      ['check', 'no/such/template.json'],
      /no\/such\/template\.json: no such file or directory/,
    ],
    ['no path', ['check'], /at least one template/],
    ['no command', [], /missing command/],
    ['an unknown command', ['lint', LEAKY], /unknown command 'lint'/],
    ['an unknown option', ['check', LEAKY, '--strict'], /Unknown option '--strict' \(see --help\)/],
    ['an unknown format', ['check', LEAKY, '--format', 'xml'], /unknown format 'xml'/],
    ['an unknown --fail-on', ['check', LEAKY, '--fail-on', 'info'], /unknown --fail-on level 'info'/],
    ['a directory that is not a cloud assembly', ['check', 'docs'], /docs: not a cloud assembly/],
  ])('2 on %s, with one line on stderr', (_name, argv, message) => {
    const result = cli(...argv);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  test.each<[string, string, string, RegExp]>([
    ['invalid JSON', 'bad.json', '{"Resources": {', /bad\.json: invalid JSON/],
    ['invalid YAML', 'bad.yaml', 'Resources:\n  A: [unclosed\n', /bad\.yaml: invalid YAML/],
    [
      'a template that is a list',
      'list.json',
      '[1, 2]',
      /not a CloudFormation template \(expected an object/,
    ],
    ['a template that is a string', 'string.yaml', 'just text\n', /not a CloudFormation template/],
    ['a template without Resources', 'empty.json', '{}', /no Resources object/],
    ['Resources of the wrong type', 'wrong.json', '{"Resources": []}', /no Resources object/],
    [
      'a resource without a Type',
      'notype.json',
      '{"Resources": {"A": {"Properties": {}}}}',
      /resource A is not an object with a string Type/,
    ],
    ['an empty file', 'empty.yaml', '', /not a CloudFormation template/],
  ])('2 on %s', (_name, file, text, message) => {
    const result = cli('check', writeTemp(file, text));
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('2 on JSON nested too deeply to parse, never a crash', () => {
    const deep = writeTemp('deep.json', `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    const result = cli('check', deep);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('wrong property types are findings, not crashes', () => {
    const template = writeTemp(
      'types.json',
      JSON.stringify({
        Resources: {
          Roll: {
            Type: 'AWS::S3::Bucket',
            Properties: {
              PublicAccessBlockConfiguration: 'yes',
              AccessControl: { 'Fn::If': ['Open', 'PublicRead', 'Private'] },
              Tags: 'registry',
            },
          },
          RollPolicy: {
            Type: 'AWS::S3::BucketPolicy',
            Properties: { Bucket: { Ref: 'Roll' }, PolicyDocument: 42 },
          },
          Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: 'everyone' } } },
          Point: { Type: 'AWS::S3::AccessPoint', Properties: 7 },
        },
      }),
    );
    const result = cli('check', template, '--format', 'json');
    expect(result.code).toBe(EXIT_FINDINGS);
    const ids = JSON.parse(result.stdout).findings.map((finding: { ruleId: string }) => finding.ruleId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'RegistryGuard-S3PublicPolicy',
        'RegistryGuard-S3PublicAcl',
        'RegistryGuard-S3BlockPublicAccess',
        'RegistryGuard-KMSPublicKeyPolicy',
      ]),
    );
  });

  test('the built entry point prints one line and no stack trace on bad input', () => {
    const tsx = path.join(REPO, 'node_modules/.bin/tsx');
    const result = spawnSync(tsx, [path.join(REPO, 'bin/registry-guard.ts'), 'check', 'missing.json'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(result.status).toBe(EXIT_USAGE);
    expect(result.stderr.trim()).toBe('registry-guard: missing.json: no such file or directory');
  });
});

describe('registry-guard check: inputs', () => {
  test('YAML short forms are read as intrinsics: same findings as the JSON template', () => {
    const fromJson = JSON.parse(cli('check', LEAKY, '--format', 'json').stdout).findings;
    const fromYaml = JSON.parse(
      cli('check', 'test/fixtures/templates/leaky.template.yaml', '--format', 'json').stdout,
    ).findings;
    const strip = (findings: { path: string }[]) => findings.map(({ path: _path, ...rest }) => rest);
    expect(strip(fromYaml)).toEqual(strip(fromJson));
  });

  test('!Join, !Ref, !GetAtt and !Sub of pseudo parameters build fixed principals', () => {
    const result = cli(
      'check',
      'test/fixtures/templates/private-by-intrinsics.template.yaml',
      '--format',
      'json',
    );
    expect(JSON.parse(result.stdout).findings).toEqual([]);
  });

  test('a cdk.out with a stage: every stack template is checked, nested assemblies included', () => {
    const outdir = tempDir();
    const app = new App({ outdir });
    const top = new Stack(app, 'Top');
    new s3.Bucket(top, 'Closed', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
    const stage = new Stage(app, 'Prod');
    const staged = new Stack(stage, 'Roll');
    new s3.Bucket(staged, 'Open', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
    app.synth();
    const result = cli('check', outdir, '--format', 'json');
    const report = JSON.parse(result.stdout);
    expect(report.summary.templates).toBe(2);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ ruleId: 'RegistryGuard-S3BlockPublicAccess' });
    expect(report.findings[0].path).toMatch(/assembly-Prod[/\\]ProdRoll.*\.template\.json$/);
    expect(result.code).toBe(EXIT_FINDINGS);
  });

  test('a cdk.out with a nested stack: the nested template is checked too', () => {
    const outdir = tempDir();
    const app = new App({ outdir });
    const parent = new Stack(app, 'Parent');
    const nested = new NestedStack(parent, 'Storage');
    new s3.Bucket(nested, 'Open', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
    app.synth();
    const report = JSON.parse(cli('check', outdir, '--format', 'json').stdout);
    expect(report.summary.templates).toBe(2);
    expect(report.findings.map((finding: { ruleId: string }) => finding.ruleId)).toEqual([
      'RegistryGuard-S3BlockPublicAccess',
    ]);
    expect(report.findings[0].path).toMatch(/\.nested\.template\.json$/);
  });
});
