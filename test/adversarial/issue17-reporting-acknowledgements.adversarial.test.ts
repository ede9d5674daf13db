/**
 * Issue 17, adversarial: acknowledgement governance. An expiry (`until YYYY-MM-DD`) that cannot be read holds
 * nothing, whatever the process's time zone; public-access and external-access findings on a registry are
 * never silenced, whichever scope or id spelling acknowledges them; and the pack and the CLI agree on what an
 * app acknowledged, however its acknowledgements reached the templates.
 *
 * A test marked `BREAK:` fails on the code as reviewed: it states what the kit should do.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { App, Aspects, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import { check } from '../../lib/cli/run-cli';
import { expiryOf } from '../../rules/acknowledgement';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { tempDirectory } from '../support/cli';
import { removeOutdir, templateLogicalId } from '../support/nag';
import { WITHOUT_BUILTIN_VALIDATION } from '../support/nag';

const REPO = path.resolve(__dirname, '..', '..');
const PUBLIC_POLICY = 'RegistryGuard-S3PublicPolicy';
const PUBLIC_ACL = 'RegistryGuard-S3PublicAcl';
const BLOCK_PUBLIC_ACCESS = 'RegistryGuard-S3BlockPublicAccess';
const EXTERNAL_ACCESS = 'RegistryGuard-S3RegistryExternalAccess';
const FORBIDDEN_ON_REGISTRY = [PUBLIC_POLICY, PUBLIC_ACL, BLOCK_PUBLIC_ACCESS, EXTERNAL_ACCESS];

const LAST_MOMENT_OF_MARCH = new Date('2027-03-31T23:59:59.999Z');
const APRIL_FIRST = new Date('2027-04-01T00:00:00.000Z');

/** What the pack (`validateScope`) and the CLI (`check cdk.out`) report, as `rule logicalId`. */
interface TwoWays {
  readonly pack: string[];
  readonly cli: string[];
  /** The pack's severity of each finding. */
  readonly severity: Map<string, string>;
}

/**
 * Synthesizes an app with the pack registered (clock at `now`) and asks the pack and the CLI. `packWriter`:
 * the pack's own `writeSuppressionsToCloudFormation`; `otherWriters`: aspects another pack would add.
 */
function twoWays(
  now: Date,
  build: (app: App, stack: Stack) => void,
  options: { packWriter?: boolean; otherWriters?: IAspect[] } = {},
): TwoWays {
  const outdir = tempDirectory('ack-adversarial');
  try {
    const app = new App({
      outdir,
      ...WITHOUT_BUILTIN_VALIDATION,
      context: { '@aws-cdk/core:failSynthOnValidationErrors': false },
    });
    for (const writer of options.otherWriters ?? []) Aspects.of(app).add(writer);
    const pack = new RegistryGuardChecks(app, {
      writeSuppressionsToCloudFormation: options.packWriter ?? true,
      clock: () => now,
    });
    Validations.of(app).addPlugins(pack);
    const stack = new Stack(app, 'Test');
    build(app, stack);
    app.synth();
    const severity = new Map<string, string>();
    const pack_ = pack.validateScope(app).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => {
        const element = app.node.findAll().find((node) => node.node.path === resource.constructPath);
        const id = `${violation.ruleName} ${resource.resourceLogicalId ?? templateLogicalId(element as never)}`;
        severity.set(id, violation.severity ?? '');
        return id;
      }),
    );
    const cli = check({ paths: [outdir], failOn: 'never', now }, 'test').findings.map(
      (finding) => `${finding.ruleId} ${finding.resource}`,
    );
    return { pack: pack_.sort(), cli: cli.sort(), severity };
  } finally {
    removeOutdir(outdir);
  }
}

function ofRules(reported: string[], rules: readonly string[]): string[] {
  return reported.filter((entry) => rules.includes(entry.split(' ')[0]));
}

/** A hand-built registry bucket (tagged) that anyone can read: ACL, policy, Block Public Access all open. */
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

/** An ordinary bucket whose policy lets anyone read. */
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

describe('issue 17 adversarial: expiries in odd places', () => {
  test.each<[string, string]>([
    ['Until 2027-02-30', 'malformed'],
    ['until 2027-1-5', 'malformed'],
    ['valid until: 2027-01-05', 'malformed'],
    ['until 2027\u201101\u201105 (non-breaking hyphens)', 'malformed'],
    ['until \uFF12\uFF10\uFF12\uFF17-01-05 (full-width digits)', 'malformed'],
    ['until 2027-01-05 (or until further notice)', 'malformed'],
    ['until 0099-01-05', 'malformed'],
    ['run-until-done', 'malformed'],
    ['UNTIL\t2027-01-05.', 'date'],
    ['Open data until 2027-01-05; reviewed 2026-12-01 by SEC-4', 'date'],
  ])('"%s" is %s', (reason, kind) => {
    expect(expiryOf(reason).kind).toBe(kind);
  });

  test('an expiry disguised with an invisible or look-alike letter is not read as no expiry at all', () => {
    // Was a break: a disguised "until" read as no expiry, so the acknowledgement held forever.
    for (const reason of ['Open data un\u200Btil 2020-01-31', 'Open data unt\u0456l 2020-01-31']) {
      expect(expiryOf(reason).kind).not.toBe('none');
    }
  });

  test.each(['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kathmandu'])(
    'the day ends at midnight UTC whatever the time zone (%s)',
    (zone) => {
      // A process of its own: the time zone is read when the process starts.
      const script = `
        const { checkTemplate } = require('./rules/check-template');
        const template = { Resources: { Archive: { Type: 'AWS::S3::Bucket', Metadata: { cdk_nag: {
          rules_to_suppress: [{ id: 'RegistryGuard-S3BlockPublicAccessUnstated',
            reason: 'Account-level BPA until 2027-03-31' }] } } } } };
        const at = (iso) => checkTemplate(template, { now: new Date(iso) }).map((finding) => finding.ruleId);
        console.log(JSON.stringify({
          offset: new Date(2027, 2, 31, 12).getTimezoneOffset(),
          startOfDay: at('2027-03-31T00:00:00.000Z'),
          lastMoment: at('${LAST_MOMENT_OF_MARCH.toISOString()}'),
          aprilFirst: at('${APRIL_FIRST.toISOString()}'),
        }));`;
      const child = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'), ['-e', script], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, TZ: zone },
      });
      expect(child.stderr).not.toMatch(/Error/);
      const seen = JSON.parse(child.stdout) as Record<string, unknown>;
      expect(seen.offset).not.toBe(0);
      expect(seen).toMatchObject({
        startOfDay: [],
        lastMoment: [],
        aprilFirst: ['RegistryGuard-S3BlockPublicAccessUnstated'],
      });
    },
  );
});

describe('issue 17 adversarial: findings on a registry no scope or spelling silences', () => {
  test.each([
    ['the stack, by the plain id', (_app: App, stack: Stack) => stack, (rule: string) => rule],
    [
      'the app, by the id CDK’s report offers',
      (app: App) => app,
      (rule: string) => `RegistryGuardChecks::${rule}`,
    ],
    [
      'the stack, as annotation::',
      (_app: App, stack: Stack) => stack,
      (rule: string) => `annotation::${rule}`,
    ],
  ])('acknowledged on %s: reported by the pack (fatal) and the CLI alike', (_name, scopeOf, idOf) => {
    const result = twoWays(LAST_MOMENT_OF_MARCH, (app, stack) => {
      publicRegistry(stack, 'Roll');
      for (const rule of FORBIDDEN_ON_REGISTRY) {
        Validations.of(scopeOf(app, stack)).acknowledge({ id: idOf(rule), reason: 'Registrar, SEC-9.' });
      }
    });
    const expected = FORBIDDEN_ON_REGISTRY.map((rule) => `${rule} Roll`).sort();
    expect(ofRules(result.cli, FORBIDDEN_ON_REGISTRY)).toEqual(expected);
    expect(ofRules(result.pack, FORBIDDEN_ON_REGISTRY)).toEqual(expected);
    for (const id of expected) expect(result.severity.get(id)).toBe('fatal');
  });

  test('a namespaced id written by hand into template metadata silences neither side', () => {
    const result = twoWays(LAST_MOMENT_OF_MARCH, (_app, stack) => {
      const registry = publicRegistry(stack, 'Roll');
      registry.addMetadata('cdk_nag', {
        rules_to_suppress: FORBIDDEN_ON_REGISTRY.flatMap((rule) => [
          { id: `RegistryGuardChecks::${rule}`, reason: 'Registrar, SEC-9.' },
          { id: `Annotation::${rule}`, reason: 'Registrar, SEC-9.' },
          { id: rule.toLowerCase(), reason: 'Registrar, SEC-9.' },
        ]),
      });
    });
    const expected = FORBIDDEN_ON_REGISTRY.map((rule) => `${rule} Roll`).sort();
    expect(ofRules(result.cli, FORBIDDEN_ON_REGISTRY)).toEqual(expected);
    expect(ofRules(result.pack, FORBIDDEN_ON_REGISTRY)).toEqual(expected);
  });
});

describe('issue 17 adversarial: the pack and the CLI agree', () => {
  test('the nearest acknowledgement decides even when the nearer one is spelt with the plugin namespace', () => {
    const result = twoWays(APRIL_FIRST, (_app, stack) => {
      const bucket = publicBucket(stack, 'OpenData');
      Validations.of(stack).acknowledge({ id: PUBLIC_POLICY, reason: 'Every bucket here is open data.' });
      Validations.of(bucket).acknowledge({
        id: `RegistryGuardChecks::${PUBLIC_POLICY}`,
        reason: 'Open data until 2027-03-31',
      });
    });
    expect(ofRules(result.pack, [PUBLIC_POLICY])).toHaveLength(1);
    expect(ofRules(result.cli, [PUBLIC_POLICY])).toEqual(ofRules(result.pack, [PUBLIC_POLICY]));
  });

  test('acknowledgements written by another cdk-nag 3 pack’s writer (namespaced ids) are read by the CLI too', () => {
    // Was a break: the CLI did not read the namespaced ids cdk-nag 3's writer puts in template metadata.
    const result = twoWays(
      LAST_MOMENT_OF_MARCH,
      (_app, stack) => {
        const bucket = publicBucket(stack, 'OpenData');
        Validations.of(bucket).acknowledge({
          id: `RegistryGuardChecks::${PUBLIC_POLICY}`,
          reason: 'Open data, SEC-12, until 2027-03-31',
        });
      },
      { packWriter: false, otherWriters: [new WriteNagSuppressionsToCloudFormationAspect()] },
    );
    expect(ofRules(result.pack, [PUBLIC_POLICY])).toEqual([]);
    expect(ofRules(result.cli, [PUBLIC_POLICY])).toEqual(ofRules(result.pack, [PUBLIC_POLICY]));
  });
});
