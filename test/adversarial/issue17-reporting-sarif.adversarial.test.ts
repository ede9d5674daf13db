/**
 * Issue 17, adversarial: `registry-guard check --format sarif` for code scanning. Code scanning tracks an alert
 * by its fingerprint and shows it where the location points: a fingerprint must follow the finding (rule,
 * template, resource) and nothing else, a location must point at the resource, every path must be a valid URI
 * reference, a large report must stay valid SARIF 2.1.0, and only an acknowledgement in force may suppress.
 *
 * A test marked `BREAK:` fails on the code as reviewed: it states what the kit should do.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { check, runCli } from '../../lib/cli/run-cli';
import { findingFingerprint, FINGERPRINT_KEY, formatSarif } from '../../lib/cli/sarif';
import { tempDirectory } from '../support/cli';

/** The official SARIF 2.1.0 schema, as @microsoft/jest-sarif ships it (as test/cli/sarif.test.ts uses it). */
const SCHEMA = JSON.parse(
  fs.readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(SCHEMA);

const LAST_MOMENT_OF_MARCH = new Date('2027-03-31T23:59:59.999Z');
const APRIL_FIRST = new Date('2027-04-01T00:00:00.000Z');
const REGISTRY_TAGS = [{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }];

interface SarifResult {
  ruleId: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } };
    logicalLocations: { name: string }[];
  }[];
  partialFingerprints: Record<string, string>;
  suppressions?: { kind: string; justification: string }[];
}

interface SarifLog {
  runs: { results: SarifResult[] }[];
}

function schemaErrors(log: unknown): string[] {
  return validateSarif(log)
    ? []
    : (validateSarif.errors ?? []).slice(0, 5).map((error) => `${error.instancePath} ${error.message}`);
}

/** `registry-guard check <paths> --format sarif --fail-on never`, run from `cwd`, judged at `now`. */
function sarifOf(cwd: string, paths: string[], now?: Date): SarifLog {
  let stdout = '';
  let stderr = '';
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    runCli(['check', ...paths, '--format', 'sarif', '--fail-on', 'never'], {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      isTty: false,
      version: '0.0.0-test',
      ...(now === undefined ? {} : { clock: () => now }),
    });
  } finally {
    process.chdir(previous);
  }
  expect(stderr).toBe('');
  return JSON.parse(stdout) as SarifLog;
}

function resultsOf(log: SarifLog): SarifResult[] {
  return log.runs[0].results;
}

function nameOf(result: SarifResult): string {
  return result.locations[0].logicalLocations[0].name;
}

function fingerprintOf(result: SarifResult): string {
  return result.partialFingerprints[FINGERPRINT_KEY];
}

/** A public bucket policy on `bucket` (a `{ Ref }`), as a hand-written template has it. */
function publicPolicy(bucket: string): Record<string, unknown> {
  return {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: { 'Fn::Sub': `arn:aws:s3:::\${${bucket}}/*` },
          },
        ],
      },
    },
  };
}

const directories: string[] = [];
function newDirectory(purpose: string): string {
  const directory = tempDirectory(purpose);
  directories.push(directory);
  return directory;
}
afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
});

function write(directory: string, relative: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(directory, relative)), { recursive: true });
  fs.writeFileSync(path.join(directory, relative), text);
}

describe('issue 17 adversarial: where a result points', () => {
  test('a resource named like a property of an earlier resource ("Bucket") is located at its own definition', () => {
    // Was a break: keyLines() took the first key equal to the logical id anywhere (the policy's "Bucket").
    const directory = newDirectory('sarif-lines');
    const text = JSON.stringify(
      {
        Resources: {
          BucketPolicy: publicPolicy('Bucket'),
          Bucket: {
            Type: 'AWS::S3::Bucket',
            Properties: { Tags: REGISTRY_TAGS },
          },
        },
      },
      null,
      2,
    );
    write(directory, 'Roll.template.json', text);
    const definitionLine = text.split('\n').indexOf('    "Bucket": {') + 1;
    expect(definitionLine).toBeGreaterThan(0);
    const onBucket = resultsOf(sarifOf(directory, ['Roll.template.json'])).filter(
      (result) => nameOf(result) === 'Bucket',
    );
    expect(onBucket.length).toBeGreaterThan(0);
    for (const result of onBucket) {
      expect(result.locations[0].physicalLocation.region?.startLine).toBe(definitionLine);
    }
  });

  test('paths with spaces, # and % are URI references that decode to the path; same logical id, other file: other fingerprint', () => {
    const directory = newDirectory('sarif-paths');
    const template = JSON.stringify(
      { Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'PublicRead' } } } },
      null,
      2,
    );
    const files = ['my stacks/roll #1 100%.template.json', 'other/roll #1 100%.template.json'];
    for (const file of files) write(directory, file, template);
    const log = sarifOf(directory, files);
    expect(schemaErrors(log)).toEqual([]);
    const results = resultsOf(log);
    const uris = new Set(results.map((result) => result.locations[0].physicalLocation.artifactLocation.uri));
    expect([...uris].sort()).toEqual(
      ['my%20stacks/roll%20%231%20100%25.template.json', 'other/roll%20%231%20100%25.template.json'].sort(),
    );
    for (const uri of uris) {
      expect(files).toContain(uri.split('/').map(decodeURIComponent).join('/'));
      expect(uri).toMatch(/^[A-Za-z0-9\-._~%!$&'()*+,;=:@/]+$/);
    }
    const byFile = (file: string) =>
      results
        .filter((result) => result.locations[0].physicalLocation.artifactLocation.uri.startsWith(file))
        .map(fingerprintOf);
    const [first, second] = [byFile('my%20stacks/'), byFile('other/')];
    expect(first.length).toBe(second.length);
    for (const fingerprint of first) expect(second).not.toContain(fingerprint);
  });

  test('a report read on Windows (backslashes) has the URIs and fingerprints of the same report on POSIX', () => {
    const directory = newDirectory('sarif-windows');
    write(
      directory,
      'cdk.out/Roll.template.json',
      JSON.stringify({
        Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'PublicRead' } } },
      }),
    );
    const previous = process.cwd();
    process.chdir(directory);
    let posix;
    try {
      posix = check({ paths: ['cdk.out/Roll.template.json'], failOn: 'never' }, 'test');
    } finally {
      process.chdir(previous);
    }
    const windows = {
      ...posix,
      templates: posix.templates.map((template) => ({ ...template, path: 'cdk.out\\Roll.template.json' })),
      findings: posix.findings.map((finding) => ({ ...finding, path: 'cdk.out\\Roll.template.json' })),
    };
    const [posixLog, windowsLog] = [posix, windows].map(
      (report) => JSON.parse(formatSarif(report, { repositoryUrl: undefined })) as SarifLog,
    );
    expect(resultsOf(windowsLog).map((result) => result.locations[0].physicalLocation)).toEqual(
      resultsOf(posixLog).map((result) => result.locations[0].physicalLocation),
    );
    expect(resultsOf(windowsLog).map(fingerprintOf)).toEqual(resultsOf(posixLog).map(fingerprintOf));
    expect(
      findingFingerprint({ ruleId: 'R', path: '.\\cdk.out\\\\Roll.template.json', resource: 'Bucket' }),
    ).toBe(findingFingerprint({ ruleId: 'R', path: 'cdk.out/Roll.template.json', resource: 'Bucket' }));
  });
});

describe('issue 17 adversarial: large and acknowledged reports', () => {
  test('a template with thousands of findings stays valid SARIF, one distinct fingerprint each', () => {
    const directory = newDirectory('sarif-large');
    const resources: Record<string, unknown> = {};
    for (let index = 0; index < 1500; index += 1) {
      resources[`Open${index}`] = { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'PublicRead' } };
    }
    write(directory, 'Big.template.json', JSON.stringify({ Resources: resources }, null, 1));
    const log = sarifOf(directory, ['Big.template.json']);
    const results = resultsOf(log);
    expect(results.length).toBeGreaterThanOrEqual(3000);
    expect(schemaErrors(log)).toEqual([]);
    expect(new Set(results.map(fingerprintOf)).size).toBe(results.length);
    const lines = new Set(results.map((result) => result.locations[0].physicalLocation.region?.startLine));
    expect(lines.size).toBe(1500);
  });

  test('an acknowledgement that expires: the same alert, suppressed to the last millisecond, then not', () => {
    const directory = newDirectory('sarif-expiry');
    write(
      directory,
      'Roll.template.json',
      JSON.stringify(
        {
          Resources: {
            Archive: {
              Type: 'AWS::S3::Bucket',
              Metadata: {
                cdk_nag: {
                  rules_to_suppress: [
                    {
                      id: 'RegistryGuard-S3BlockPublicAccessUnstated',
                      reason: 'Account-level BPA, SEC-7, until 2027-03-31',
                    },
                  ],
                },
              },
            },
            Open: { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'PublicRead' } },
          },
        },
        null,
        2,
      ),
    );
    const before = resultsOf(sarifOf(directory, ['Roll.template.json'], LAST_MOMENT_OF_MARCH));
    const after = resultsOf(sarifOf(directory, ['Roll.template.json'], APRIL_FIRST));
    const key = (result: SarifResult) => `${result.ruleId} ${nameOf(result)}`;
    const archive = (results: SarifResult[]) =>
      results.find((result) => key(result) === 'RegistryGuard-S3BlockPublicAccessUnstated Archive');
    expect(archive(before)?.suppressions).toEqual([
      { kind: 'inSource', justification: 'Account-level BPA, SEC-7, until 2027-03-31' },
    ]);
    expect(archive(after)?.suppressions).toBeUndefined();
    expect(archive(after)?.message.text).toMatch(/expired at the end of 2027-03-31 \(UTC\)/);
    // One result per finding either side of midnight, each keeping its fingerprint whatever its order.
    const fingerprints = (results: SarifResult[]) =>
      new Map(results.map((result) => [key(result), fingerprintOf(result)]));
    expect(fingerprints(after)).toEqual(fingerprints(before));
    expect(after).toHaveLength(before.length);
  });

  test('only an acknowledgement in force suppresses: not a refused, namespaced, misspelt or non-text one', () => {
    const directory = newDirectory('sarif-suppressions');
    const acknowledge = (...entries: { id: string; reason?: unknown }[]) => ({
      cdk_nag: { rules_to_suppress: entries },
    });
    write(
      directory,
      'Roll.template.json',
      JSON.stringify(
        {
          Resources: {
            Roll: {
              Type: 'AWS::S3::Bucket',
              Properties: { AccessControl: 'PublicRead', Tags: REGISTRY_TAGS },
              Metadata: acknowledge(
                { id: 'RegistryGuardChecks::RegistryGuard-S3PublicAcl', reason: 'Registrar, SEC-9.' },
                { id: 'RegistryGuard-S3PublicAcl', reason: 'Registrar, SEC-9.' },
                { id: 'registryguard-s3registryversioning', reason: 'Backups elsewhere.' },
                { id: 'RegistryGuard-S3RegistryAccessLogging', reason: { text: 'CloudTrail data events' } },
              ),
            },
            Site: {
              Type: 'AWS::S3::Bucket',
              Properties: {
                PublicAccessBlockConfiguration: {
                  BlockPublicAcls: true,
                  IgnorePublicAcls: true,
                  BlockPublicPolicy: true,
                  RestrictPublicBuckets: true,
                },
              },
              // A rule the bucket passes: nothing to suppress, so no result at all.
              Metadata: acknowledge({ id: 'RegistryGuard-S3PublicPolicy', reason: 'Website, SEC-3.' }),
            },
          },
        },
        null,
        2,
      ),
    );
    const log = sarifOf(directory, ['Roll.template.json']);
    expect(schemaErrors(log)).toEqual([]);
    const results = resultsOf(log);
    expect(results.filter((result) => result.suppressions !== undefined)).toEqual([]);
    const on = (resource: string) =>
      results.filter((result) => nameOf(result) === resource).map((result) => result.ruleId);
    expect(on('Roll')).toEqual(
      expect.arrayContaining([
        'RegistryGuard-S3PublicAcl',
        'RegistryGuard-S3RegistryVersioning',
        'RegistryGuard-S3RegistryAccessLogging',
      ]),
    );
    expect(on('Site')).not.toContain('RegistryGuard-S3PublicPolicy');
  });
});
