/**
 * An acknowledgement (`Validations.of(construct).acknowledge`) silences one rule on the construct it is made
 * on and everything below it: never a sibling. Checked the three ways a finding reaches a user, through real
 * synthesis: `validateScope`, `app.synth()` with the pack registered, and `registry-guard check cdk.out` reading
 * what `writeSuppressionsToCloudFormation` wrote into the templates.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import {
  cliTemplateViolations,
  GuardedApp,
  newGuardedApp,
  packTemplateViolations,
  removeOutdir,
  synthReportViolations,
  templateLogicalId,
  TemplateViolation,
} from '../support/nag';

const PUBLIC_POLICY = 'RegistryGuard-S3PublicPolicy';
const BLOCK_PUBLIC_ACCESS = 'RegistryGuard-S3BlockPublicAccess';

/** A bucket whose policy lets anyone read, with the Block Public Access policy settings off. */
function publicBucket(
  scope: Construct,
  id: string,
  level: 'L1' | 'L2',
): { construct: IConstruct; logicalId: string } {
  if (level === 'L2') {
    const bucket = new s3.Bucket(scope, id, {
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
    return { construct: bucket, logicalId: templateLogicalId(bucket.node.defaultChild as s3.CfnBucket) };
  }
  const bucket = new s3.CfnBucket(scope, id, {
    publicAccessBlockConfiguration: { blockPublicAcls: true, ignorePublicAcls: true },
  });
  new s3.CfnBucketPolicy(scope, `${id}Policy`, {
    bucket: bucket.ref,
    policyDocument: {
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucket.attrArn}/*` },
      ],
    },
  });
  return { construct: bucket, logicalId: templateLogicalId(bucket) };
}

/** Two public buckets in one stack, and where the acknowledgement is made. */
interface Placement {
  readonly name: string;
  /** Builds the buckets in `stack`, acknowledges `id` somewhere, returns both buckets' logical ids. */
  build(stack: Stack, id: string): { acknowledged: string; sibling: string };
}

function acknowledge(construct: IConstruct, id: string): void {
  Validations.of(construct).acknowledge({ id, reason: 'Open-data bucket: anonymised statistics only.' });
}

const PLACEMENTS: readonly Placement[] = [
  {
    name: 'on the L2 bucket',
    build(stack, id) {
      const acknowledged = publicBucket(stack, 'OpenData', 'L2');
      const sibling = publicBucket(stack, 'Roll', 'L2');
      acknowledge(acknowledged.construct, id);
      return { acknowledged: acknowledged.logicalId, sibling: sibling.logicalId };
    },
  },
  {
    name: "on the L2 bucket's CfnBucket, whose logical id is pinned",
    build(stack, id) {
      const acknowledged = publicBucket(stack, 'OpenData', 'L2');
      const sibling = publicBucket(stack, 'Roll', 'L2');
      const cfnBucket = acknowledged.construct.node.defaultChild as s3.CfnBucket;
      cfnBucket.overrideLogicalId('OpenDataPinned');
      acknowledge(cfnBucket, id);
      return { acknowledged: 'OpenDataPinned', sibling: sibling.logicalId };
    },
  },
  {
    name: 'on a construct that holds only that bucket',
    build(stack, id) {
      const openData = new Construct(stack, 'OpenDataSite');
      const acknowledged = publicBucket(openData, 'Bucket', 'L2');
      const sibling = publicBucket(stack, 'Roll', 'L2');
      acknowledge(openData, id);
      return { acknowledged: acknowledged.logicalId, sibling: sibling.logicalId };
    },
  },
  {
    name: 'on an L1 bucket next to an L1 sibling',
    build(stack, id) {
      const acknowledged = publicBucket(stack, 'OpenData', 'L1');
      const sibling = publicBucket(stack, 'Roll', 'L1');
      acknowledge(acknowledged.construct, id);
      return { acknowledged: acknowledged.logicalId, sibling: sibling.logicalId };
    },
  },
];

/** The ids users acknowledge with: the plain rule id, and the namespaced one CDK's validation report offers. */
const ACKNOWLEDGED_IDS = [PUBLIC_POLICY, `RegistryGuardChecks::${PUBLIC_POLICY}`];

function violation(ruleId: string, logicalId: string): TemplateViolation {
  return `${ruleId} Test.template.json/${logicalId}`;
}

/** The violations of one rule. */
function ofRule(violations: readonly TemplateViolation[], ruleId: string): TemplateViolation[] {
  return violations.filter((entry) => entry.startsWith(`${ruleId} `));
}

describe.each(ACKNOWLEDGED_IDS)('acknowledging %s', (acknowledgedId) => {
  describe.each(PLACEMENTS)('$name', (placement) => {
    let guarded: GuardedApp;
    let ids: { acknowledged: string; sibling: string };

    function build(failSynth: boolean): App {
      guarded = newGuardedApp({ failSynth });
      ids = placement.build(new Stack(guarded.app, 'Test'), acknowledgedId);
      return guarded.app;
    }

    afterEach(() => removeOutdir(guarded.outdir));

    test('validateScope reports the sibling only, and still reports other rules on both', () => {
      const app = build(false);
      const violations = packTemplateViolations(app, guarded.pack.validateScope(app));
      expect(ofRule(violations, PUBLIC_POLICY)).toEqual([violation(PUBLIC_POLICY, ids.sibling)]);
      expect(ofRule(violations, BLOCK_PUBLIC_ACCESS)).toEqual(
        [
          violation(BLOCK_PUBLIC_ACCESS, ids.acknowledged),
          violation(BLOCK_PUBLIC_ACCESS, ids.sibling),
        ].sort(),
      );
    });

    test('app.synth() fails, and its validation report lists the sibling only', () => {
      const app = build(true);
      let failure: unknown;
      try {
        app.synth();
      } catch (error) {
        failure = error;
      }
      // The message lists each violating construct with "Acknowledge with '<id>'": one for the sibling.
      const message = failure instanceof Error ? failure.message : '';
      expect(message.split(`Acknowledge with 'RegistryGuardChecks::${PUBLIC_POLICY}'`)).toHaveLength(2);
      const violations = synthReportViolations(app, guarded.outdir);
      expect(ofRule(violations, PUBLIC_POLICY)).toEqual([violation(PUBLIC_POLICY, ids.sibling)]);
      expect(ofRule(violations, BLOCK_PUBLIC_ACCESS)).toHaveLength(2);
    });

    test('the CLI on cdk.out reports the sibling only: the acknowledgement is in the template', () => {
      const app = build(false);
      app.synth();
      const violations = cliTemplateViolations(guarded.outdir);
      expect(ofRule(violations, PUBLIC_POLICY)).toEqual([violation(PUBLIC_POLICY, ids.sibling)]);
      expect(ofRule(violations, BLOCK_PUBLIC_ACCESS)).toHaveLength(2);
      const resources = JSON.parse(
        fs.readFileSync(path.join(guarded.outdir, 'Test.template.json'), 'utf8'),
      ).Resources;
      expect(resources[ids.acknowledged].Metadata.cdk_nag.rules_to_suppress).toEqual([
        { id: PUBLIC_POLICY, reason: 'Open-data bucket: anonymised statistics only.' },
      ]);
      expect(resources[ids.sibling].Metadata?.cdk_nag).toBeUndefined();
    });
  });
});

describe('what an acknowledgement does not cover', () => {
  test("acknowledging the bucket's policy leaves the bucket's finding, in the pack and the CLI", () => {
    const { app, pack, outdir } = newGuardedApp({ failSynth: false });
    try {
      const stack = new Stack(app, 'Test');
      const bucket = publicBucket(stack, 'Roll', 'L2').construct as s3.Bucket;
      acknowledge(bucket.policy!, PUBLIC_POLICY);
      app.synth();
      const expected = [
        violation(PUBLIC_POLICY, templateLogicalId(bucket.node.defaultChild as s3.CfnBucket)),
      ];
      expect(ofRule(packTemplateViolations(app, pack.validateScope(app)), PUBLIC_POLICY)).toEqual(expected);
      expect(ofRule(cliTemplateViolations(outdir), PUBLIC_POLICY)).toEqual(expected);
    } finally {
      removeOutdir(outdir);
    }
  });

  test('an id that differs from the rule id (a prefix, another case) acknowledges nothing', () => {
    const { app, pack, outdir } = newGuardedApp({ failSynth: false });
    try {
      const stack = new Stack(app, 'Test');
      const near = publicBucket(stack, 'Near', 'L2');
      const cased = publicBucket(stack, 'Cased', 'L2');
      acknowledge(near.construct, 'RegistryGuard-S3Public');
      acknowledge(cased.construct, PUBLIC_POLICY.toLowerCase());
      app.synth();
      const expected = [
        violation(PUBLIC_POLICY, cased.logicalId),
        violation(PUBLIC_POLICY, near.logicalId),
      ].sort();
      expect(ofRule(packTemplateViolations(app, pack.validateScope(app)), PUBLIC_POLICY)).toEqual(expected);
      expect(ofRule(synthReportViolations(app, outdir), PUBLIC_POLICY)).toEqual(expected);
      expect(ofRule(cliTemplateViolations(outdir), PUBLIC_POLICY)).toEqual(expected);
    } finally {
      removeOutdir(outdir);
    }
  });

  test('acknowledging the stack covers both buckets, everywhere', () => {
    const { app, pack, outdir } = newGuardedApp({ failSynth: false });
    try {
      const stack = new Stack(app, 'Test');
      publicBucket(stack, 'OpenData', 'L2');
      publicBucket(stack, 'Roll', 'L2');
      acknowledge(stack, PUBLIC_POLICY);
      app.synth();
      expect(ofRule(packTemplateViolations(app, pack.validateScope(app)), PUBLIC_POLICY)).toEqual([]);
      expect(ofRule(synthReportViolations(app, outdir), PUBLIC_POLICY)).toEqual([]);
      expect(ofRule(cliTemplateViolations(outdir), PUBLIC_POLICY)).toEqual([]);
    } finally {
      removeOutdir(outdir);
    }
  });
});
