/**
 * Issue 17, adversarial: Security Hub findings (SECURITY_HUB_FINDINGS) on a bad day and against hostile
 * input. What goes to BatchImportFindings must be a valid ASFF finding about the right resource, whatever the
 * outcome named; a finding is resolved only when what raised it is shown closed; Security Hub refusing part
 * of a batch costs only that part. The guard runs against the in-memory account of
 * test/remediation/support.ts, Security Hub mocked with aws-sdk-client-mock.
 *
 * A test marked `BREAK:` fails on the code as reviewed: it states what the kit should do.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectAclCommand } from '@aws-sdk/client-s3';
import {
  GetAccessPointCommand,
  GetAccessPointPolicyCommand,
  GetMultiRegionAccessPointCommand,
  GetMultiRegionAccessPointPolicyCommand,
  S3ControlServiceException,
} from '@aws-sdk/client-s3-control';
import {
  AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { EVIDENCE_PREFIXES, GuardMode } from '../../lib/guard-facts';
import { guardMultiRegionAccessPoint } from '../../lib/remediation/guard-multi-region-access-point';
import { guardObjectAcl } from '../../lib/remediation/guard-object-acl';
import { createHandler, GuardHandler } from '../../lib/remediation/handler';
import { unverifiableOutcome } from '../../lib/remediation/report/outcome';
import { SecurityHubFindings } from '../../lib/remediation/report/security-hub';
import {
  composeFinding,
  FINDING_KINDS,
  findingIdOf,
} from '../../lib/remediation/report/security-hub-finding';
import { createRunContext, RunContext, TriggerKind } from '../../lib/remediation/run-context';
import { readGuardSettings } from '../../lib/remediation/settings';
import {
  ACCOUNT,
  ALL_ON,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  isLoopbackOrCloudFormation,
  NOW,
  policyOf,
  REGION,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
  settle,
  TOPIC_ARN,
} from '../remediation/support';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'remediation');
const ROLL = 'electoral-roll';
const ON = { SECURITY_HUB_FINDINGS: 'true' };

/** What S3 accepts as a bucket name (general purpose buckets): what an `AwsS3Bucket` resource must name. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Bidirectional overrides and isolates: text that makes what follows it display in another order. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;

/** The account, with a Security Hub whose answers the test chooses (all accepted unless told). */
class HubAccount extends FakeAccount {
  readonly securityHub = new SecurityHubClient({ region: REGION });
  readonly hubMock: AwsClientStub<SecurityHubClient> = mockClient(this.securityHub);

  constructor() {
    super();
    this.hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
      FailedCount: 0,
      SuccessCount: input.Findings.length,
      FailedFindings: [],
    }));
    this.hubMock.on(BatchUpdateFindingsCommand).callsFake((input: { FindingIdentifiers: object[] }) => ({
      ProcessedFindings: input.FindingIdentifiers,
      UnprocessedFindings: [],
    }));
  }

  guard(env: Record<string, string | undefined> = ON): GuardHandler {
    let sequence = 0;
    return createHandler({
      s3: this.s3,
      s3Control: this.s3Control,
      config: this.config,
      sns: this.sns,
      sts: this.sts,
      securityHub: this.securityHub,
      logger: this.logger,
      now: () => NOW,
      newId: () => `id${(sequence += 1).toString().padStart(6, '0')}`,
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN, ...env },
      isTrustedResponseUrl: isLoopbackOrCloudFormation,
    });
  }

  /** A run of the guard's, as the handler makes one, for driving a stage directly. */
  run(triggerKind: TriggerKind): RunContext {
    return createRunContext({
      s3: this.s3,
      s3Control: this.s3Control,
      config: this.config,
      sns: this.sns,
      securityHub: this.securityHub,
      settings: readGuardSettings({ ...ON, EVIDENCE_BUCKET, AWS_REGION: REGION }),
      logger: this.logger,
      trigger: 'test',
      triggerKind,
      accountId: ACCOUNT,
      region: REGION,
      now: () => NOW,
      newId: () => 'id000001',
      remainingMs: () => Number.POSITIVE_INFINITY,
    });
  }

  imported(): AwsSecurityFinding[] {
    return this.hubMock
      .commandCalls(BatchImportFindingsCommand)
      .flatMap((call) => call.args[0].input.Findings ?? []);
  }

  /** The Ids BatchUpdateFindings was asked to move to RESOLVED. */
  resolvedIds(): string[] {
    return this.hubMock
      .commandCalls(BatchUpdateFindingsCommand)
      .flatMap((call) => call.args[0].input.FindingIdentifiers ?? [])
      .map((identifier) => identifier.Id ?? '');
  }

  openRecords(): string[] {
    return [...this.records(EVIDENCE_PREFIXES.securityHubFindings).keys()].sort();
  }
}

function controlError(name: string, httpStatusCode: number): S3ControlServiceException {
  return new S3ControlServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: name,
  });
}

/** The PutAccessPointPolicy fixture, for `name`. */
function putAccessPointPolicyEvent(name: string): unknown {
  const event = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, 'cloudtrail-put-access-point-policy.json'), 'utf8'),
  ) as { detail: { requestParameters: Record<string, unknown>; resources: unknown } };
  event.detail.requestParameters.name = name;
  event.detail.resources = [];
  return event;
}

/** A registry that delegates access control to its own access points: closed on its own settings. */
function delegatingRegistry(account: FakeAccount): void {
  account.addBucket(ROLL, {
    tags: [REGISTRY_TAG],
    blockPublicAccess: ALL_ON,
    objectOwnership: 'BucketOwnerEnforced',
    policy: policyOf({
      Sid: 'DelegateToAccessPoints',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: '*',
      Resource: [`arn:aws:s3:::${ROLL}`, `arn:aws:s3:::${ROLL}/*`],
      Condition: { StringEquals: { 's3:DataAccessPointAccount': ACCOUNT } },
    }),
  });
}

/**
 * What is wrong with the resources of a finding: an `AwsS3Bucket` must name a bucket by its ARN, and a
 * resource Id is an identifier (an ARN), never words.
 */
function resourceProblems(finding: AwsSecurityFinding): string[] {
  return (finding.Resources ?? []).flatMap((resource) => {
    const problems: string[] = [];
    if (/\s/.test(resource.Id ?? '')) problems.push(`resource Id "${resource.Id}" holds spaces`);
    if (resource.Type === 'AwsS3Bucket') {
      const name = /^arn:aws[a-z-]*:s3:::(.*)$/.exec(resource.Id ?? '')?.[1];
      if (name === undefined || !BUCKET_NAME.test(name)) {
        problems.push(`AwsS3Bucket "${resource.Id}" is not the ARN of a bucket`);
      }
    }
    return problems;
  });
}

describe('issue 17 adversarial: a finding is about the resource its outcome names', () => {
  test('an access point the guard may not read', async () => {
    // Was a break: an AwsS3Bucket finding on arn:aws:s3:::access point ...; now AwsS3AccessPoint, its ARN.
    const account = new HubAccount();
    delegatingRegistry(account);
    account.s3ControlMock.on(GetAccessPointCommand).rejects(controlError('AccessDenied', 403));
    account.s3ControlMock.on(GetAccessPointPolicyCommand).rejects(controlError('AccessDenied', 403));
    await settle(account.guard()(putAccessPointPolicyEvent('roll-analytics')));
    const [finding] = account.imported();
    expect(finding?.GeneratorId).toBe('registry-guard/public-access-guard/unverifiable');
    expect(resourceProblems(finding)).toEqual([]);
  });

  test('a Multi-Region Access Point the guard may not read', async () => {
    // Was a break: an AwsS3Bucket finding on the label; now the Multi-Region Access Point's ARN (Other).
    const account = new HubAccount();
    account.s3ControlMock.on(GetMultiRegionAccessPointCommand).rejects(controlError('AccessDenied', 403));
    account.s3ControlMock
      .on(GetMultiRegionAccessPointPolicyCommand)
      .rejects(controlError('AccessDenied', 403));
    const run = account.run('multi-region-access-point-api-call');
    const findings = SecurityHubFindings.of(run);
    for (const outcome of await guardMultiRegionAccessPoint(run, 'roll-global')) {
      await findings?.add(outcome, true);
    }
    expect(await findings?.flush()).toEqual({ imported: 1, resolved: 0, failed: 0 });
    const [finding] = account.imported();
    expect(resourceProblems(finding)).toEqual([]);
  });

  test('a sweep whose access point listing fails ("access points of account ...")', async () => {
    // Was a break: an AwsS3Bucket finding on the label "access points of account ..."; now AwsAccount.
    const account = new HubAccount();
    account.failAlways('ListAccessPoints', ACCOUNT, controlError('AccessDenied', 403));
    await settle(account.guard()(scheduledEvent()));
    const findings = account.imported();
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.flatMap(resourceProblems)).toEqual([]);
  });

  test('an object ACL the guard may not read is a finding on its bucket, by the bucket’s ARN', async () => {
    const account = new HubAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    account.s3Mock.on(GetObjectAclCommand).rejects(s3Error('AccessDenied', 'Access Denied', 403));
    const run = account.run('object-acl-api-call');
    const findings = SecurityHubFindings.of(run);
    await findings?.add(await guardObjectAcl(run, { bucket: ROLL, key: 'exports/roll.csv' }), true);
    await findings?.flush();
    const [finding] = account.imported();
    expect(finding.Resources).toEqual([
      expect.objectContaining({ Type: 'AwsS3Bucket', Id: `arn:aws:s3:::${ROLL}` }),
    ]);
    expect(resourceProblems(finding)).toEqual([]);
  });
});

describe('issue 17 adversarial: resolving only what is shown closed', () => {
  test('a bucket closed on its own settings does not resolve what its unreadable access point raised', async () => {
    // Was a break: the bucket's own COMPLIANT resolved it; a way in's finding is now keyed by the way in.
    const account = new HubAccount();
    delegatingRegistry(account);
    account.s3ControlMock.on(GetAccessPointCommand).callsFake((input: { Name: string }) => ({
      Name: input.Name,
      Bucket: ROLL,
      NetworkOrigin: 'Internet',
      PublicAccessBlockConfiguration: ALL_ON,
    }));
    account.s3ControlMock.on(GetAccessPointPolicyCommand).rejects(controlError('AccessDenied', 403));
    await settle(account.guard()(putAccessPointPolicyEvent('roll-analytics')));
    const unverifiableId = `registry-guard/${REGION}/${ACCOUNT}/${ROLL}/access-point:roll-analytics/unverifiable`;
    expect(account.imported().map((finding) => finding.Id)).toEqual([unverifiableId]);
    expect(account.openRecords()).toHaveLength(1);

    const result = await settle(account.guard()(configChangeEvent(ROLL)));
    expect(result).toMatchObject({ buckets: [{ bucket: ROLL, compliance: 'COMPLIANT' }] });
    expect(account.resolvedIds()).not.toContain(unverifiableId);
  });

  test('a bucket judged closed while a finding of it waits unsent: the import wins, nothing is resolved', async () => {
    const account = new HubAccount();
    const run = account.run('config-scheduled');
    const findings = SecurityHubFindings.of(run);
    const unverifiable = unverifiableOutcome(ROLL, 'GetBucketPolicy failed with SlowDown: Please reduce');
    await findings?.add(unverifiable, true);
    // The same bucket judged COMPLIANT later in the run (another page of the sweep, say).
    await findings?.add(
      {
        bucket: ROLL,
        compliance: 'COMPLIANT',
        isRegistry: true,
        problems: [],
        reasons: [],
        notes: [],
        annotation: 'Registry bucket: no public grant, Block Public Access all on.',
      },
      true,
    );
    expect(await findings?.flush()).toEqual({ imported: 1, resolved: 0, failed: 0 });
    expect(account.hubMock.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });
});

describe('issue 17 adversarial: Ids, fields and limits under hostile text', () => {
  test('Ids are one per bucket and kind: stable across runs, distinct across buckets, kinds, Regions', () => {
    const buckets = ['roll', 'roll.backup', 'roll-backup', 'r'.repeat(63), 'x.y.z'];
    const regions = ['us-east-1', 'eu-west-1', 'cn-north-1'];
    const ids = regions.flatMap((region) =>
      buckets.flatMap((bucket) =>
        FINDING_KINDS.map((kind) => findingIdOf({ accountId: ACCOUNT, region }, bucket, kind)),
      ),
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(512);
      expect(id).toMatch(/^[\x21-\x7e]+$/);
    }
    const outcome = unverifiableOutcome('roll', 'GetBucketAcl failed with AccessDenied');
    const first = composeFinding(outcome, 'unverifiable', {
      accountId: ACCOUNT,
      region: REGION,
      mode: GuardMode.REMEDIATE,
      trigger: 'CloudTrail PutBucketAcl',
      now: NOW,
    });
    const second = composeFinding(outcome, 'unverifiable', {
      accountId: ACCOUNT,
      region: REGION,
      mode: GuardMode.REPORT,
      trigger: 'AWS Config sweep',
      now: new Date(NOW.getTime() + 86_400_000),
    });
    expect(second.Id).toBe(first.Id);
  });

  test('an error message with markup, line breaks, control characters and a megabyte of text stays within ASFF', async () => {
    const account = new HubAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    const message =
      '<!channel> <https://evil.example|restore here>\nTitle: forged\r\u0000\u0007\u001b[31m ' +
      `${'\u{1F512}'.repeat(3)}${'x'.repeat(1_048_576)}\ud800`;
    account.failAlways('GetBucketPolicy', ROLL, s3Error('AccessDenied', message, 403));
    await settle(account.guard()(configChangeEvent(ROLL)));
    const [finding] = account.imported();
    expect(finding.Title?.length).toBeLessThanOrEqual(256);
    expect(finding.Description?.length).toBeLessThanOrEqual(1024);
    for (const text of [finding.Title ?? '', finding.Description ?? '']) {
      expect(text).not.toMatch(/\p{Cc}/u);
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
    for (const value of Object.values(finding.ProductFields ?? {})) {
      expect(value.length).toBeLessThanOrEqual(2048);
    }
    expect(Buffer.byteLength(JSON.stringify(finding))).toBeLessThan(240 * 1024);
  });

  test('outside text cannot reorder what a finding displays (bidirectional overrides)', async () => {
    // Was a break: oneLine() kept bidirectional format characters; it now drops them.
    const account = new HubAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    account.failAlways(
      'GetBucketPolicy',
      ROLL,
      s3Error('AccessDenied', 'Access Denied \u202Edesolc dna deifirev\u202C', 403),
    );
    await settle(account.guard()(configChangeEvent(ROLL)));
    const [finding] = account.imported();
    expect(finding.Description).not.toMatch(BIDI_CONTROLS);
  });
});

describe('issue 17 adversarial: Security Hub refusing part of a batch', () => {
  test('only the findings it refused are counted failed and left unremembered; the rest are open', async () => {
    const account = new HubAccount();
    const refusedId = `registry-guard/${REGION}/${ACCOUNT}/hidden-2/unverifiable`;
    account.hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
      FailedCount: 1,
      SuccessCount: input.Findings.length - 1,
      FailedFindings: [{ Id: refusedId, ErrorCode: 'InvalidInput', ErrorMessage: 'Finding is invalid' }],
    }));
    const run = account.run('config-scheduled');
    const findings = SecurityHubFindings.of(run);
    for (const bucket of ['hidden-1', 'hidden-2', 'hidden-3']) {
      await findings?.add(unverifiableOutcome(bucket, 'GetBucketPolicy failed with AccessDenied'), true);
    }
    expect(await findings?.flush()).toEqual({ imported: 2, resolved: 0, failed: 1 });
    expect(account.openRecords()).toEqual([
      `${EVIDENCE_PREFIXES.securityHubFindings}hidden-1/unverifiable.json`,
      `${EVIDENCE_PREFIXES.securityHubFindings}hidden-3/unverifiable.json`,
    ]);
    expect(JSON.stringify(account.logger.entries)).toContain('hidden-2');
  });

  test('a resolution Security Hub names neither processed nor unprocessed keeps its record', async () => {
    const account = new HubAccount();
    const run = account.run('config-scheduled');
    let findings = SecurityHubFindings.of(run);
    await findings?.add(unverifiableOutcome(ROLL, 'GetBucketPolicy failed with AccessDenied'), true);
    await findings?.flush();
    account.hubMock
      .on(BatchUpdateFindingsCommand)
      .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    findings = SecurityHubFindings.of(account.run('config-scheduled'));
    await findings?.add(
      {
        bucket: ROLL,
        compliance: 'COMPLIANT',
        problems: [],
        reasons: [],
        notes: [],
        annotation: 'Not public.',
      },
      true,
    );
    expect(await findings?.flush()).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(account.openRecords()).toHaveLength(1);
  });
});
