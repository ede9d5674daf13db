/**
 * Acknowledgement governance (issue 17): an acknowledgement may expire (`until YYYY-MM-DD`, to the end of that
 * day UTC); one whose expiry cannot be read holds nothing; public-access and external-access findings on a
 * registry bucket cannot be acknowledged at all. The pack (`validateScope` and `app.synth()`) and the CLI
 * (`registry-guard check cdk.out`) read acknowledgements with the same code and must agree, finding for
 * finding and word for word on why.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnElement, PolicyViolation, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { check } from '../../lib/cli/run-cli';
import { SensitiveRegistryBucket } from '../../lib/sensitive-registry-bucket';
import { expiryOf, UNACKNOWLEDGEABLE_ON_REGISTRY } from '../../rules/acknowledgement';
import { REGISTRY_GUARD_RULES } from '../../rules/all-rules';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { ruleId } from '../../rules/rule';
import { tempDirectory } from '../support/cli';
import { removeOutdir, templateLogicalId, WITHOUT_BUILTIN_VALIDATION } from '../support/nag';

const PUBLIC_POLICY = 'RegistryGuard-S3PublicPolicy';
const PUBLIC_ACL = 'RegistryGuard-S3PublicAcl';
const BLOCK_PUBLIC_ACCESS = 'RegistryGuard-S3BlockPublicAccess';
const ACCESS_POINT = 'RegistryGuard-S3PublicAccessPoint';
const EXTERNAL_ACCESS = 'RegistryGuard-S3RegistryExternalAccess';
const CDN_ORIGIN = 'RegistryGuard-S3RegistryCdnOrigin';
const DRIFT_GUARD = 'RegistryGuard-S3DriftGuard';

/** The first instant after 2027-03-31, UTC: an acknowledgement "until 2027-03-31" has just expired. */
const APRIL_FIRST = new Date('2027-04-01T00:00:00.000Z');
const LAST_MOMENT_OF_MARCH = new Date('2027-03-31T23:59:59.999Z');

/** One finding as each side reports it: rule, template file, logical id, and what it says. */
interface Reported {
  readonly id: string;
  readonly message: string;
  readonly severity?: string;
}

/** What the three ways a finding reaches a user report for one app, judged at one instant. */
interface ThreeWays {
  readonly pack: Reported[];
  readonly synth: Reported[];
  readonly cli: Reported[];
}

/** The pack's violations as `rule template/logicalId` with their descriptions (the pack locates each). */
function packReported(violations: readonly PolicyViolation[]): Reported[] {
  return violations
    .flatMap((violation) =>
      violation.violatingResources.map((resource) => ({
        id: `${violation.ruleName} ${path.basename(resource.templatePath ?? '')}/${resource.resourceLogicalId}`,
        message: violation.description,
        severity: violation.severity,
      })),
    )
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Builds an app with the pack registered (clock fixed at `now`, acknowledgements written into the templates),
 * synthesizes it without failing, and asks the pack, CDK's synth report and the CLI on cdk.out.
 */
function threeWays(now: Date, build: (stack: Stack) => void): ThreeWays {
  const outdir = tempDirectory('governance');
  try {
    const app = new App({
      outdir,
      ...WITHOUT_BUILTIN_VALIDATION,
      context: { '@aws-cdk/core:failSynthOnValidationErrors': false },
    });
    const pack = new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true, clock: () => now });
    Validations.of(app).addPlugins(pack);
    const stack = new Stack(app, 'Test');
    build(stack);
    app.synth();
    const synthReport = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        violations: {
          ruleName: string;
          description: string;
          severity: string;
          violatingResources?: { resourceLogicalId: string; templatePath: string }[];
          violatingConstructs: { constructPath: string }[];
        }[];
      }[];
    };
    const synthViolations = synthReport.pluginReports
      .filter((report) => report.pluginName === 'RegistryGuardChecks')
      .flatMap((report) => report.violations);
    return {
      pack: packReported(pack.validateScope(app).violations),
      synth: synthViolations
        .flatMap((violation) =>
          violation.violatingConstructs.map((construct) => {
            const element = app.node.findAll().find((node) => node.node.path === construct.constructPath);
            return {
              id: `${violation.ruleName} Test.template.json/${templateLogicalId(element as CfnElement)}`,
              message: violation.description,
              severity: violation.severity,
            };
          }),
        )
        .sort((a, b) => a.id.localeCompare(b.id)),
      cli: check({ paths: [outdir], failOn: 'never', now }, 'test')
        .findings.map((finding) => ({
          id: `${finding.ruleId} ${path.basename(finding.path)}/${finding.resource}`,
          message: finding.message,
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  } finally {
    removeOutdir(outdir);
  }
}

/** The findings of one rule, each side; checks that the three sides report the same resources. */
function ofRule(result: ThreeWays, rule: string): ThreeWays {
  const pick = (reported: Reported[]) => reported.filter((entry) => entry.id.startsWith(`${rule} `));
  const picked = { pack: pick(result.pack), synth: pick(result.synth), cli: pick(result.cli) };
  const ids = (reported: Reported[]) => reported.map((entry) => entry.id);
  expect(ids(picked.pack)).toEqual(ids(picked.cli));
  expect(ids(picked.synth)).toEqual(ids(picked.cli));
  return picked;
}

/** An ordinary bucket whose policy lets anyone read, Block Public Access policy settings off. */
function publicBucket(stack: Stack, id: string): s3.Bucket {
  const bucket = new s3.Bucket(stack, id, {
    blockPublicAccess: new s3.BlockPublicAccess({
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    }),
  });
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects('*')],
    }),
  );
  return bucket;
}

/** A hand-built registry bucket (tagged), readable by anyone: ACL, policy, Block Public Access all open. */
function publicRegistry(stack: Stack, id: string): s3.CfnBucket {
  const bucket = new s3.CfnBucket(stack, id, {
    accessControl: 'PublicRead',
    publicAccessBlockConfiguration: {
      blockPublicAcls: false,
      ignorePublicAcls: false,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    },
    tags: [{ key: 'registry-guard:classification', value: 'sensitive-registry' }],
  });
  new s3.CfnBucketPolicy(stack, `${id}Policy`, {
    bucket: bucket.ref,
    policyDocument: {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::999988887777:root' },
          Action: 's3:GetObject',
          Resource: `${bucket.attrArn}/*`,
        },
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucket.attrArn}/*` },
      ],
    },
  });
  return bucket;
}

describe('expiry: "until YYYY-MM-DD" in the reason', () => {
  test.each([
    ['Signed-URL design, SEC-12, until 2027-03-31', '2027-03-31'],
    ['Open data until 2027-03-31.', '2027-03-31'],
    ['Open data (Until 2028-02-29)', '2028-02-29'],
  ])('%s holds to the end of %s, UTC', (reason, until) => {
    expect(expiryOf(reason)).toEqual({
      kind: 'date',
      until,
      endsAt: Date.parse(`${until}T00:00:00Z`) + 24 * 3600 * 1000,
    });
  });

  test.each([
    'Open data.',
    'Untiled floor plans, no personal data.',
    'Reviewed by SEC-12 on 2026-11-02.',
    '',
  ])('"%s" names no expiry', (reason) => {
    expect(expiryOf(reason)).toEqual({ kind: 'none' });
  });

  test.each([
    ['until the migration ends', /followed by "the", not a date YYYY-MM-DD/],
    ['until 31/03/2027', /followed by "31\/03\/2027", not a date/],
    ['until 2027-3-31', /followed by "2027-3-31", not a date/],
    ['until 2027-03-31T12:00', /followed by "2027-03-31T12:00", not a date/],
    ['until 2027-02-29', /"until 2027-02-29" is not a calendar date/],
    ['until 2027-13-01', /"until 2027-13-01" is not a calendar date/],
    ['open until', /followed by nothing/],
    ['until 2027-03-31, renewed until 2028-03-31', /says "until" 2 times/],
  ])('"%s" is malformed: %s', (reason, problem) => {
    const expiry = expiryOf(reason);
    expect(expiry.kind).toBe('malformed');
    expect(expiry.kind === 'malformed' ? expiry.problem : '').toMatch(problem);
  });

  test('reads a reason in time linear in its length', () => {
    // A reason a template could hold: 1 MB of near-misses for every pattern.
    const reason = `${'until 2027-03-3 '.repeat(30_000)}${'x'.repeat(500_000)}`;
    const started = process.hrtime.bigint();
    expect(expiryOf(reason).kind).toBe('malformed');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });
});

describe('the pack and the CLI honour and refuse the same acknowledgements', () => {
  describe.each([PUBLIC_POLICY, `RegistryGuardChecks::${PUBLIC_POLICY}`])('acknowledged as %s', (id) => {
    function acknowledged(reason: string, now: Date): ThreeWays {
      return ofRule(
        threeWays(now, (stack) => {
          const bucket = publicBucket(stack, 'OpenData');
          Validations.of(bucket).acknowledge({ id, reason });
        }),
        PUBLIC_POLICY,
      );
    }

    test('holds through the last millisecond of its day, UTC', () => {
      expect(acknowledged('Open data, SEC-12, until 2027-03-31', LAST_MOMENT_OF_MARCH)).toEqual({
        pack: [],
        synth: [],
        cli: [],
      });
    });

    test('the finding returns once the day is over, and says the acknowledgement expired', () => {
      const result = acknowledged('Open data, SEC-12, until 2027-03-31', APRIL_FIRST);
      expect(result.cli).toHaveLength(1);
      const why =
        'The acknowledgement ("Open data, SEC-12, until 2027-03-31") expired at the end of 2027-03-31 (UTC)';
      expect(result.cli[0].message).toContain(why);
      // Reported as fatal, which CDK's report cannot silence even for a RegistryGuardChecks:: acknowledgement.
      for (const side of [result.pack, result.synth]) {
        expect(side).toEqual([expect.objectContaining({ severity: 'fatal' })]);
        expect(side[0].message).toContain(why);
      }
    });

    test('a malformed date holds nothing, and the finding says why', () => {
      const result = acknowledged('Open data until end of Q1', LAST_MOMENT_OF_MARCH);
      expect(result.cli).toHaveLength(1);
      for (const side of [result.pack, result.synth, result.cli]) {
        expect(side[0].message).toMatch(/not honoured: "until" is followed by "end", not a date YYYY-MM-DD/);
      }
    });

    test('a reason without an expiry holds', () => {
      expect(acknowledged('Open data: anonymised turnout statistics.', APRIL_FIRST)).toEqual({
        pack: [],
        synth: [],
        cli: [],
      });
    });
  });

  test('the nearest acknowledgement decides: an expired one on the bucket is not saved by its stack', () => {
    const result = ofRule(
      threeWays(APRIL_FIRST, (stack) => {
        const bucket = publicBucket(stack, 'OpenData');
        Validations.of(stack).acknowledge({ id: PUBLIC_POLICY, reason: 'Every bucket here is open data.' });
        Validations.of(bucket).acknowledge({ id: PUBLIC_POLICY, reason: 'Open data until 2027-03-31' });
      }),
      PUBLIC_POLICY,
    );
    expect(result.cli).toHaveLength(1);
    expect(result.cli[0].message).toMatch(/expired at the end of 2027-03-31/);
  });

  test('an acknowledgement written by hand into template metadata is judged the same way', () => {
    const result = ofRule(
      threeWays(APRIL_FIRST, (stack) => {
        const bucket = publicBucket(stack, 'OpenData');
        (bucket.node.defaultChild as s3.CfnBucket).addMetadata('cdk_nag', {
          rules_to_suppress: [{ id: PUBLIC_POLICY, reason: 'Open data until 2027-03-31' }],
        });
      }),
      PUBLIC_POLICY,
    );
    expect(result.cli).toHaveLength(1);
    expect(result.pack[0].message).toMatch(/expired at the end of 2027-03-31/);
  });
});

describe('findings no acknowledgement silences', () => {
  test('the rules, as docs/rules.md lists them', () => {
    expect([...UNACKNOWLEDGEABLE_ON_REGISTRY.keys()].sort()).toEqual(
      [PUBLIC_POLICY, PUBLIC_ACL, BLOCK_PUBLIC_ACCESS, ACCESS_POINT, EXTERNAL_ACCESS].sort(),
    );
    const ids = new Set(REGISTRY_GUARD_RULES.map(ruleId));
    for (const id of UNACKNOWLEDGEABLE_ON_REGISTRY.keys()) expect(ids.has(id)).toBe(true);
  });

  test.each([PUBLIC_POLICY, PUBLIC_ACL, BLOCK_PUBLIC_ACCESS, EXTERNAL_ACCESS])(
    '%s on a registry bucket is reported, with why, however it is acknowledged',
    (rule) => {
      const result = ofRule(
        threeWays(LAST_MOMENT_OF_MARCH, (stack) => {
          const registry = publicRegistry(stack, 'Roll');
          Validations.of(registry).acknowledge({ id: rule, reason: 'Approved by the registrar, SEC-9.' });
          registry.addMetadata('cdk_nag', {
            rules_to_suppress: [{ id: rule, reason: 'Approved by the registrar, SEC-9.' }],
          });
        }),
        rule,
      );
      expect(result.cli.map((finding) => finding.id)).toEqual([`${rule} Test.template.json/Roll`]);
      for (const side of [result.pack, result.synth, result.cli]) {
        expect(side[0].message).toContain(`${rule} cannot be acknowledged on a registry bucket`);
      }
      expect(result.pack[0].severity).toBe('fatal');
    },
  );

  test('the same acknowledgements hold on an ordinary bucket', () => {
    const result = threeWays(LAST_MOMENT_OF_MARCH, (stack) => {
      const bucket = publicBucket(stack, 'OpenData');
      for (const id of [PUBLIC_POLICY, BLOCK_PUBLIC_ACCESS]) {
        Validations.of(bucket).acknowledge({ id, reason: 'Open data: anonymised statistics.' });
      }
    });
    for (const rule of [PUBLIC_POLICY, BLOCK_PUBLIC_ACCESS]) {
      expect(ofRule(result, rule)).toEqual({ pack: [], synth: [], cli: [] });
    }
  });

  test(`${ACCESS_POINT} on an access point to a registry bucket is reported; to an ordinary one it holds`, () => {
    const result = ofRule(
      threeWays(LAST_MOMENT_OF_MARCH, (stack) => {
        const registry = new SensitiveRegistryBucket(stack, 'Roll');
        const ordinary = new s3.Bucket(stack, 'Site', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
        Validations.of(stack).acknowledge({ id: DRIFT_GUARD, reason: 'Tested on its own.' });
        for (const [id, bucket] of [
          ['RollPoint', registry.bucket],
          ['SitePoint', ordinary],
        ] as const) {
          const point = new s3.CfnAccessPoint(stack, id, {
            bucket: bucket.bucketName,
            publicAccessBlockConfiguration: { blockPublicPolicy: false, restrictPublicBuckets: false },
          });
          Validations.of(point).acknowledge({ id: ACCESS_POINT, reason: 'Partner portal, SEC-4.' });
        }
      }),
      ACCESS_POINT,
    );
    expect(result.cli.map((finding) => finding.id)).toEqual([`${ACCESS_POINT} Test.template.json/RollPoint`]);
    expect(result.cli[0].message).toContain('a public access point exposes the registry behind it');
  });

  test(`${CDN_ORIGIN} stays acknowledgeable on a registry: the signed-URL design it names`, () => {
    const build = (stack: Stack): void => {
      const roll = new SensitiveRegistryBucket(stack, 'Roll');
      Validations.of(stack).acknowledge({ id: DRIFT_GUARD, reason: 'Tested on its own.' });
      const cdn = new cloudfront.Distribution(stack, 'Cdn', {
        defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(roll.bucket) },
      });
      for (const scope of [cdn, roll]) {
        Validations.of(scope).acknowledge({
          id: CDN_ORIGIN,
          reason: 'Signed-URL design, SEC-12, until 2027-03-31',
        });
      }
    };
    expect(ofRule(threeWays(LAST_MOMENT_OF_MARCH, build), CDN_ORIGIN)).toEqual({
      pack: [],
      synth: [],
      cli: [],
    });
    // Two findings, the distribution's and the registry's, both back once the date has passed.
    expect(ofRule(threeWays(APRIL_FIRST, build), CDN_ORIGIN).cli).toHaveLength(2);
  });
});
