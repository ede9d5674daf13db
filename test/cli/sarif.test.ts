/**
 * `--format sarif` for GitHub code scanning (issue 17): valid against the SARIF 2.1.0 schema, a fingerprint per
 * result that survives edits, a `security-severity` and a `helpUri` (to a heading that exists) on every rule,
 * and acknowledged findings reported as suppressed, with their reason.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { ruleAnchor, SECURITY_SEVERITY } from '../../lib/cli/rule-reference';
import { FINGERPRINT_KEY } from '../../lib/cli/sarif';
import { REGISTRY_GUARD_RULES } from '../../rules/all-rules';
import { ruleId } from '../../rules/rule';
import { runCliCapturing, tempDirectory } from '../support/cli';

const REPO = path.resolve(__dirname, '../..');
const LEAKY = 'test/fixtures/templates/leaky.template.json';
const LEAKY_YAML = 'test/fixtures/templates/leaky.template.yaml';

/** The official SARIF 2.1.0 schema (rtm.5, the OASIS standard's), as @microsoft/jest-sarif ships it. */
const SCHEMA = JSON.parse(
  fs.readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
) as Record<string, unknown>;

// The schema's `language` pattern has a stray `]` that only non-Unicode regular expressions accept.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(SCHEMA);

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } };
    logicalLocations: { name: string }[];
  }[];
  partialFingerprints: Record<string, string>;
  suppressions?: { kind: string; justification: string }[];
}

interface SarifRule {
  id: string;
  helpUri?: string;
  properties: Record<string, unknown>;
}

interface SarifLog {
  runs: { tool: { driver: { rules: SarifRule[]; informationUri?: string } }; results: SarifResult[] }[];
}

/** Runs `registry-guard check <paths> --format sarif` from the repository root. */
function sarifOf(...paths: string[]): SarifLog {
  const result = runCliCapturing(['check', ...paths, '--format', 'sarif', '--fail-on', 'never'], REPO);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as SarifLog;
}

function schemaErrors(log: unknown): string[] {
  return validateSarif(log)
    ? []
    : (validateSarif.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

/** Writes a template into a temporary directory, under a fixed name, and returns its path. */
function writeTemplate(directory: string, text: string): string {
  const file = path.join(directory, 'Roll.template.json');
  fs.writeFileSync(file, text);
  return file;
}

/** Fingerprint of each result, by `ruleId resource`. */
function fingerprints(log: SarifLog): Map<string, string> {
  return new Map(
    log.runs[0].results.map((result) => [
      `${result.ruleId} ${result.locations[0].logicalLocations[0].name}`,
      result.partialFingerprints[FINGERPRINT_KEY],
    ]),
  );
}

const LEAKY_TEMPLATE = JSON.parse(fs.readFileSync(path.join(REPO, LEAKY), 'utf8')) as {
  Resources: Record<string, Record<string, unknown>>;
};

describe('--format sarif is valid SARIF 2.1.0', () => {
  test.each([
    ['the leaky JSON template', [LEAKY]],
    ['the leaky YAML template', [LEAKY_YAML]],
    [
      'both, and a template that passes',
      [LEAKY, LEAKY_YAML, 'test/fixtures/templates/private-by-intrinsics.template.yaml'],
    ],
  ])('%s', (_name, paths) => {
    const log = sarifOf(...paths);
    expect(log.runs[0].results.length).toBeGreaterThan(0);
    expect(schemaErrors(log)).toEqual([]);
  });

  test('with suppressed, expired and refused acknowledgements', () => {
    const log = sarifOf(acknowledgedTemplate());
    expect(log.runs[0].results.some((result) => result.suppressions !== undefined)).toBe(true);
    expect(schemaErrors(log)).toEqual([]);
  });

  test('the validation can fail: a misspelt suppression kind and a result without a message are refused', () => {
    const log = sarifOf(LEAKY);
    const result = log.runs[0].results[log.runs[0].results.length - 1];
    result.suppressions = [{ kind: 'inline', justification: 'x' }];
    delete (log.runs[0].results[0] as Partial<SarifResult>).message;
    expect(schemaErrors(log)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/suppressions\/0\/kind must be equal to one of the allowed values/),
        expect.stringMatching(/results\/0 must have required property 'message'/),
      ]),
    );
  });
});

describe('fingerprints: one per finding, stable while the template is edited', () => {
  const directory = tempDirectory('sarif');
  afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

  function fingerprintsOf(template: unknown, indent = 2): Map<string, string> {
    return fingerprints(sarifOf(writeTemplate(directory, JSON.stringify(template, null, indent))));
  }

  const original = fingerprintsOf(LEAKY_TEMPLATE);

  test('every result has one, and no two results share one', () => {
    const log = sarifOf(LEAKY);
    const values = log.runs[0].results.map((result) => result.partialFingerprints[FINGERPRINT_KEY]);
    expect(values.every((value) => /^[0-9a-f]{64}$/.test(value))).toBe(true);
    expect(new Set(values).size).toBe(values.length);
  });

  test('lines shift (a description, other formatting, resources reordered): the same fingerprints', () => {
    const { RollBucket, RollBucketPolicy, ArchiveBucket } = LEAKY_TEMPLATE.Resources;
    const shifted = {
      Description: 'Line one.\nLine two.',
      Parameters: { Stage: { Type: 'String', Default: 'prod' } },
      Resources: { ArchiveBucket, RollBucketPolicy, RollBucket },
    };
    const log = sarifOf(writeTemplate(directory, JSON.stringify(shifted, null, 8)));
    const lines = log.runs[0].results.map((result) => result.locations[0].physicalLocation.region?.startLine);
    const originalLog = sarifOf(writeTemplate(directory, JSON.stringify(LEAKY_TEMPLATE, null, 2)));
    // The lines did move; the fingerprints did not.
    expect(lines).not.toEqual(
      originalLog.runs[0].results.map((result) => result.locations[0].physicalLocation.region?.startLine),
    );
    expect(fingerprints(log)).toEqual(original);
  });

  test('other resources added, and the finding worded differently: the same fingerprints', () => {
    const withMore = structuredClone(LEAKY_TEMPLATE);
    withMore.Resources.AnotherOpenBucket = {
      Type: 'AWS::S3::Bucket',
      Properties: { AccessControl: 'PublicRead' },
    };
    // The Sid is in the finding's message: the message changes, the finding is the same.
    const policy = withMore.Resources.RollBucketPolicy.Properties as {
      PolicyDocument: { Statement: { Sid: string }[] };
    };
    policy.PolicyDocument.Statement[0].Sid = 'RenamedStatement';
    const edited = fingerprintsOf(withMore);
    for (const [finding, fingerprint] of original) expect(edited.get(finding)).toBe(fingerprint);
    expect(edited.size).toBeGreaterThan(original.size);
  });

  test('another template path, rule or resource gives another fingerprint', () => {
    const elsewhere = path.join(tempDirectory('sarif-elsewhere'), 'Roll.template.json');
    fs.writeFileSync(elsewhere, JSON.stringify(LEAKY_TEMPLATE));
    const moved = fingerprints(sarifOf(elsewhere));
    for (const [finding, fingerprint] of original) expect(moved.get(finding)).not.toBe(fingerprint);
    fs.rmSync(path.dirname(elsewhere), { recursive: true, force: true });
  });

  test('the same template spelt ./x or x has the same fingerprints', () => {
    expect(fingerprints(sarifOf(`./${LEAKY}`))).toEqual(fingerprints(sarifOf(LEAKY)));
  });
});

describe('rules: security-severity and helpUri on every rule', () => {
  const log = sarifOf(LEAKY);
  const rules = log.runs[0].tool.driver.rules;
  const repository = (
    JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { repository: { url: string } }
  ).repository.url
    .replace(/^git\+/, '')
    .replace(/\.git$/, '');

  test('every rule of the pack is described', () => {
    expect(rules.map((rule) => rule.id)).toEqual(REGISTRY_GUARD_RULES.map(ruleId));
  });

  test.each(REGISTRY_GUARD_RULES.map((rule) => [ruleId(rule), rule]))(
    '%s has a security-severity of its own, a number from 0.1 to 10.0, written as a string',
    (id) => {
      const rule = rules.find((candidate) => candidate.id === id);
      const severity = rule?.properties['security-severity'];
      expect(severity).toBe(SECURITY_SEVERITY[id]);
      expect(typeof severity).toBe('string');
      expect(Number(severity)).toBeGreaterThanOrEqual(0.1);
      expect(Number(severity)).toBeLessThanOrEqual(10);
    },
  );

  test('public exposure of a registry is critical, warnings are low or medium', () => {
    const severity = (id: string): number => Number(SECURITY_SEVERITY[id]);
    expect(severity('RegistryGuard-S3PublicPolicy')).toBe(9.8);
    for (const rule of REGISTRY_GUARD_RULES.filter((candidate) => candidate.level === 'warning')) {
      expect(severity(ruleId(rule))).toBeLessThan(7);
    }
  });

  test.each(REGISTRY_GUARD_RULES.map((rule) => [ruleId(rule), rule]))(
    '%s links to its heading in docs/rules.md in the repository package.json names',
    (id, rule) => {
      const helpUri = rules.find((candidate) => candidate.id === id)?.helpUri;
      expect(helpUri).toBe(`${repository}/blob/HEAD/docs/rules.md#${ruleAnchor(rule)}`);
      expect(headingAnchors()).toContain(ruleAnchor(rule));
    },
  );

  test('the driver links to the repository', () => {
    expect(log.runs[0].tool.driver.informationUri).toBe(repository);
  });

  test('docs/rules.md gives each rule the security-severity the SARIF has', () => {
    const rows = new Map(
      fs
        .readFileSync(path.join(REPO, 'docs/rules.md'), 'utf8')
        .split('\n')
        .map((line) => line.split('|').map((cell) => cell.trim()))
        .filter((cells) => cells.length > 4 && /^`RegistryGuard-/.test(cells[1]))
        .map((cells) => [cells[1].slice(1, -1), cells[3]]),
    );
    expect(Object.fromEntries(rows)).toEqual(SECURITY_SEVERITY);
  });
});

/**
 * The anchors GitHub gives the headings of docs/rules.md: the heading text lowercased, punctuation other than
 * `-` and `_` removed, spaces as dashes (github-slugger's rule).
 */
function headingAnchors(): string[] {
  return fs
    .readFileSync(path.join(REPO, 'docs/rules.md'), 'utf8')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) =>
      line
        .replace(/^#+ /, '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
}

/**
 * A template whose buckets carry acknowledgements: one in force, one expired, one malformed, and one that a
 * registry bucket cannot have.
 */
const temporaryDirectories: string[] = [];
afterAll(() => {
  for (const directory of temporaryDirectories) fs.rmSync(directory, { recursive: true, force: true });
});

function acknowledgedTemplate(): string {
  const directory = tempDirectory('sarif-acknowledged');
  temporaryDirectories.push(directory);
  const acknowledge = (id: string, reason: string) => ({ cdk_nag: { rules_to_suppress: [{ id, reason }] } });
  const template = {
    Resources: {
      Current: {
        Type: 'AWS::S3::Bucket',
        Metadata: acknowledge(
          'RegistryGuard-S3BlockPublicAccessUnstated',
          'Account-level BPA, until 2999-12-31',
        ),
      },
      Expired: {
        Type: 'AWS::S3::Bucket',
        Metadata: acknowledge(
          'RegistryGuard-S3BlockPublicAccessUnstated',
          'Account-level BPA, until 2020-01-31',
        ),
      },
      Malformed: {
        Type: 'AWS::S3::Bucket',
        Metadata: acknowledge(
          'RegistryGuard-S3BlockPublicAccessUnstated',
          'Account-level BPA until further notice',
        ),
      },
      Roll: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          AccessControl: 'PublicRead',
          Tags: [{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }],
        },
        Metadata: acknowledge('RegistryGuard-S3PublicAcl', 'Approved by the registrar.'),
      },
    },
  };
  return writeTemplate(directory, JSON.stringify(template, null, 2));
}

describe('acknowledged findings are results with a suppression', () => {
  const log = sarifOf(acknowledgedTemplate());
  const resultOf = (rule: string, resource: string): SarifResult | undefined =>
    log.runs[0].results.find(
      (result) => result.ruleId === rule && result.locations[0].logicalLocations[0].name === resource,
    );

  test('one in force: suppressed inSource, the reason its justification', () => {
    expect(resultOf('RegistryGuard-S3BlockPublicAccessUnstated', 'Current')?.suppressions).toEqual([
      { kind: 'inSource', justification: 'Account-level BPA, until 2999-12-31' },
    ]);
  });

  test('an expired one: an ordinary result that says the acknowledgement expired', () => {
    const result = resultOf('RegistryGuard-S3BlockPublicAccessUnstated', 'Expired');
    expect(result?.suppressions).toBeUndefined();
    expect(result?.message.text).toMatch(/expired at the end of 2020-01-31 \(UTC\)/);
  });

  test('a malformed one: an ordinary result that says why', () => {
    const result = resultOf('RegistryGuard-S3BlockPublicAccessUnstated', 'Malformed');
    expect(result?.suppressions).toBeUndefined();
    expect(result?.message.text).toMatch(/"until" is followed by "further", not a date YYYY-MM-DD/);
  });

  test('one a registry bucket cannot have: an ordinary result that says why', () => {
    const result = resultOf('RegistryGuard-S3PublicAcl', 'Roll');
    expect(result?.suppressions).toBeUndefined();
    expect(result?.message.text).toMatch(
      /RegistryGuard-S3PublicAcl cannot be acknowledged on a registry bucket/,
    );
  });

  test('a suppressed result keeps the fingerprint it had before it was acknowledged', () => {
    const directory = tempDirectory('sarif-before');
    const before = fingerprints(
      sarifOf(
        writeTemplate(directory, JSON.stringify({ Resources: { Current: { Type: 'AWS::S3::Bucket' } } })),
      ),
    );
    const after = fingerprints(
      sarifOf(
        writeTemplate(
          directory,
          JSON.stringify({
            Resources: {
              Current: {
                Type: 'AWS::S3::Bucket',
                Metadata: {
                  cdk_nag: {
                    rules_to_suppress: [
                      { id: 'RegistryGuard-S3BlockPublicAccessUnstated', reason: 'Account BPA.' },
                    ],
                  },
                },
              },
            },
          }),
        ),
      ),
    );
    expect(after).toEqual(before);
    fs.rmSync(directory, { recursive: true, force: true });
  });

  test('the golden leaky report keeps its one acknowledged finding, suppressed', () => {
    const suppressed = sarifOf(LEAKY).runs[0].results.filter((result) => result.suppressions !== undefined);
    expect(suppressed.map((result) => [result.ruleId, result.locations[0].logicalLocations[0].name])).toEqual(
      [['RegistryGuard-S3BlockPublicAccessUnstated', 'ArchiveBucket']],
    );
  });
});
