/**
 * Security Hub findings (SECURITY_HUB_FINDINGS): what the handler sends to BatchImportFindings and
 * BatchUpdateFindings for each kind of outcome, checked against the ASFF's required fields as the AWS
 * documentation lists them (not against the builder), how a bucket found closed resolves its open findings,
 * and that Security Hub failing never undoes or fails a remediation. Security Hub is aws-sdk-client-mock
 * (moto's has no BatchUpdateFindings and checks no field); S3 is the in-memory account of support.ts, and
 * the open-finding records are also exercised against moto's S3 at the end.
 */
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { EVIDENCE_PREFIXES } from '../../lib/guard-facts';
import { defaultDeps } from '../../lib/remediation/clients';
import { createHandler, GuardHandler } from '../../lib/remediation/handler';
import { createRunContext } from '../../lib/remediation/run-context';
import { readGuardSettings } from '../../lib/remediation/settings';
import { SecurityHubFindings } from '../../lib/remediation/report/security-hub';
import {
  ACCOUNT,
  ALL_ON,
  at,
  auditorStatement,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  isLoopbackOrCloudFormation,
  MINUTE,
  NOW,
  OWNER_GRANT,
  policyOf,
  PUBLIC_READ_GRANT,
  publicStatement,
  RecordingLogger,
  REGION,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
  TOPIC_ARN,
} from './support';
import {
  motoAvailable,
  MotoServer,
  pointAwsAt,
  startMotoServer,
  useLoopbackHost,
} from '../support/moto-server';

const ROLL = 'electoral-roll';
const OPEN_DATA = 'open-data';
const PRODUCT_ARN = `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`;
const ON = { SECURITY_HUB_FINDINGS: 'true' };

/**
 * The ASFF's rules for a finding sent to BatchImportFindings, from the AWS documentation ("Required
 * top-level ASFF attributes", and AwsSecurityFinding in the Security Hub API reference): every problem
 * found, empty for a valid finding.
 */
function asffProblems(finding: AwsSecurityFinding): string[] {
  const problems: string[] = [];
  const record = finding as unknown as Record<string, unknown>;
  const required = [
    'AwsAccountId',
    'CreatedAt',
    'Description',
    'GeneratorId',
    'Id',
    'ProductArn',
    'Resources',
    'SchemaVersion',
    'Severity',
    'Title',
    'Types',
    'UpdatedAt',
  ];
  for (const field of required) if (record[field] === undefined) problems.push(`${field} is missing`);
  const text = (field: string, max: number): void => {
    const value = record[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > max) {
      problems.push(`${field} must be a string of 1 to ${max} characters`);
    } else if ([...value].some((character) => character.charCodeAt(0) < 0x20)) {
      problems.push(`${field} holds a control character`);
    }
  };
  text('Id', 512);
  text('GeneratorId', 512);
  text('Title', 256);
  text('Description', 1024);
  if (finding.SchemaVersion !== '2018-10-08') problems.push('SchemaVersion must be 2018-10-08');
  if (!/^\d{12}$/.test(finding.AwsAccountId ?? '')) problems.push('AwsAccountId must be 12 digits');
  if (
    !/^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{12}:product\/[^/]+\/[^/]+$/.test(finding.ProductArn ?? '')
  ) {
    problems.push('ProductArn is not a Security Hub product ARN');
  }
  // RFC 3339, section 5.6, as ASFF timestamps must be.
  const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  for (const field of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt']) {
    const value = record[field];
    if (value !== undefined && (typeof value !== 'string' || !timestamp.test(value))) {
      problems.push(`${field} is not an RFC 3339 timestamp`);
    }
  }
  if (finding.FirstObservedAt !== undefined && finding.LastObservedAt !== undefined) {
    if (Date.parse(finding.FirstObservedAt) > Date.parse(finding.LastObservedAt)) {
      problems.push('FirstObservedAt is after LastObservedAt');
    }
  }
  const labels = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
  if (!labels.includes(finding.Severity?.Label ?? ''))
    problems.push('Severity.Label is not a severity label');
  const namespaces = [
    'Software and Configuration Checks',
    'TTPs',
    'Effects',
    'Unusual Behaviors',
    'Sensitive Data Identifications',
  ];
  const types = finding.Types ?? [];
  if (types.length < 1 || types.length > 50) problems.push('Types must hold 1 to 50 types');
  for (const type of types) {
    const parts = type.split('/');
    if (
      parts.length < 2 ||
      parts.length > 3 ||
      !namespaces.includes(parts[0]) ||
      parts.some((part) => part === '')
    ) {
      problems.push(`type "${type}" is not namespace/category/classifier`);
    }
  }
  const resources = finding.Resources ?? [];
  if (resources.length < 1 || resources.length > 32) problems.push('Resources must hold 1 to 32 resources');
  for (const resource of resources) {
    if (!resource.Type || !resource.Id) problems.push('a resource lacks its Type or Id');
    if (
      resource.Partition !== undefined &&
      !['aws', 'aws-cn', 'aws-us-gov', 'aws-us-iso', 'aws-us-iso-b'].includes(resource.Partition)
    ) {
      problems.push(`resource partition ${resource.Partition} is not an ASFF partition`);
    }
  }
  const oneOf = (value: string | undefined, allowed: string[], name: string): void => {
    if (value !== undefined && !allowed.includes(value)) problems.push(`${name} ${value} is not allowed`);
  };
  oneOf(finding.Compliance?.Status, ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'], 'Compliance.Status');
  oneOf(finding.Workflow?.Status, ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'], 'Workflow.Status');
  oneOf(finding.RecordState, ['ACTIVE', 'ARCHIVED'], 'RecordState');
  const recommendation = finding.Remediation?.Recommendation?.Text;
  if (recommendation !== undefined && recommendation.length > 512)
    problems.push('Recommendation.Text over 512');
  const productFields = Object.entries(finding.ProductFields ?? {});
  if (productFields.length > 50) problems.push('more than 50 ProductFields');
  for (const [key, value] of productFields) {
    if (key.length > 128 || value.length > 2048) problems.push(`ProductFields ${key} too long`);
  }
  if (Buffer.byteLength(JSON.stringify(finding)) > 240 * 1024) problems.push('the finding is over 240 KB');
  // The default product ARN takes findings of its own account only.
  if (finding.ProductArn?.split(':')[4] !== finding.AwsAccountId)
    problems.push('AwsAccountId is not the product’s');
  return problems;
}

/** The account, with a Security Hub client whose answers the test chooses. */
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

  guard(env: Record<string, string | undefined> = ON, now: () => Date = () => NOW): GuardHandler {
    let sequence = 0;
    return createHandler({
      s3: this.s3,
      s3Control: this.s3Control,
      config: this.config,
      sns: this.sns,
      sts: this.sts,
      securityHub: this.securityHub,
      logger: this.logger,
      now,
      newId: () => `id${(sequence += 1).toString().padStart(6, '0')}`,
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN, ...env },
      isTrustedResponseUrl: isLoopbackOrCloudFormation,
    });
  }

  /** Every finding sent to BatchImportFindings, in order, across calls. */
  imported(): AwsSecurityFinding[] {
    return this.hubMock
      .commandCalls(BatchImportFindingsCommand)
      .flatMap((call) => call.args[0].input.Findings ?? []);
  }

  /** The open-finding records in the evidence bucket, by key. */
  openRecords(): string[] {
    return [...this.records(EVIDENCE_PREFIXES.securityHubFindings).keys()].sort();
  }
}

function openRegistry(account: FakeAccount, bucket = ROLL): void {
  account.addBucket(bucket, {
    tags: [REGISTRY_TAG],
    policy: policyOf(publicStatement(bucket), auditorStatement(bucket)),
    grants: [OWNER_GRANT, PUBLIC_READ_GRANT],
  });
}

describe('each kind of outcome becomes a valid ASFF finding', () => {
  const scenarios: [
    name: string,
    setUp: (account: HubAccount) => string,
    kind: string,
    severity: string,
    compliance: string,
  ][] = [
    ['registry bucket closed', (account) => (openRegistry(account), ROLL), 'remediated', 'HIGH', 'FAILED'],
    [
      'ordinary bucket closed',
      (account) => (
        account.addBucket(OPEN_DATA, { policy: policyOf(publicStatement(OPEN_DATA)) }),
        OPEN_DATA
      ),
      'remediated',
      'MEDIUM',
      'FAILED',
    ],
    [
      'registry bucket still public',
      (account) => {
        openRegistry(account);
        for (const operation of ['PutPublicAccessBlock', 'PutBucketPolicy', 'PutBucketAcl']) {
          account.failAlways(operation, ROLL, s3Error('AccessDenied', 'Access Denied', 403));
        }
        return ROLL;
      },
      'failed',
      'CRITICAL',
      'FAILED',
    ],
    [
      'ordinary bucket whose Block Public Access was refused',
      (account) => {
        account.addBucket(OPEN_DATA, { policy: policyOf(publicStatement(OPEN_DATA)) });
        account.failAlways('PutPublicAccessBlock', OPEN_DATA, s3Error('AccessDenied', 'Access Denied', 403));
        return OPEN_DATA;
      },
      'failed',
      'MEDIUM',
      'FAILED',
    ],
    [
      'bucket the guard may not read',
      (account) => {
        openRegistry(account);
        account.failAlways(
          'GetBucketPolicy',
          ROLL,
          s3Error('AccessDenied', 'Access Denied\nForged: line', 403),
        );
        return ROLL;
      },
      'unverifiable',
      'HIGH',
      'FAILED',
    ],
  ];

  test.each(scenarios)('%s', async (_name, setUp, kind, severity, compliance) => {
    const account = new HubAccount();
    const bucket = setUp(account);
    const result = await account
      .guard()(configChangeEvent(bucket))
      .catch((error: unknown) => error);

    const [finding, ...others] = account.imported();
    expect(others).toEqual([]);
    expect(asffProblems(finding)).toEqual([]);
    expect(finding).toMatchObject({
      Id: `registry-guard/${REGION}/${ACCOUNT}/${bucket}/${kind}`,
      ProductArn: PRODUCT_ARN,
      GeneratorId: `registry-guard/public-access-guard/${kind}`,
      AwsAccountId: ACCOUNT,
      Severity: { Label: severity },
      FindingProviderFields: { Severity: { Label: severity } },
      Resources: [{ Type: 'AwsS3Bucket', Id: `arn:aws:s3:::${bucket}`, Partition: 'aws', Region: REGION }],
      Compliance: { Status: compliance },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      CreatedAt: NOW.toISOString(),
      UpdatedAt: NOW.toISOString(),
      FirstObservedAt: NOW.toISOString(),
    });
    // A still-public bucket fails the invocation on purpose; the finding went out all the same.
    if (kind !== 'failed' || severity !== 'CRITICAL') expect(result).not.toBeInstanceOf(Error);
  });

  test('a closed bucket with evidence recommends the restore command, pinned to the evidence version and checksum', async () => {
    const account = new HubAccount();
    openRegistry(account);
    await account.guard()(configChangeEvent(ROLL));
    const [finding] = account.imported();
    const [evidenceKey] = account.evidence().keys();
    expect(finding.Remediation?.Recommendation?.Text).toMatch(
      new RegExp(
        `^Only if the change was intended, .*: npx registry-guard restore s3://${EVIDENCE_BUCKET}/${evidenceKey.replace(/[.]/g, '\\.')} --version-id v\\d+ --sha256 [0-9a-f]{64}$`,
      ),
    );
    expect(finding.Description).toContain(`Evidence: s3://${EVIDENCE_BUCKET}/${evidenceKey}`);
  });

  test('outside text stays on one line in the title and description', async () => {
    const account = new HubAccount();
    openRegistry(account);
    account.failAlways(
      'GetBucketPolicy',
      ROLL,
      s3Error('AccessDenied', `Denied\r\nSeverity: LOW\u2028x`, 403),
    );
    await account.guard()(configChangeEvent(ROLL));
    const [finding] = account.imported();
    expect(finding.Description).toContain('Denied  Severity: LOW x');
    expect(`${finding.Title}${finding.Description}`).not.toMatch(/[\r\n\u2028\u2029]/);
  });

  test('report mode reports an unverifiable bucket, remembers nothing and changes nothing', async () => {
    const account = new HubAccount();
    openRegistry(account);
    account.failAlways('GetBucketPolicy', ROLL, s3Error('AccessDenied', 'Access Denied', 403));
    const result = await account.guard({ ...ON, GUARD_MODE: 'report' })(configChangeEvent(ROLL));
    expect(account.imported().map((finding) => finding.GeneratorId)).toEqual([
      'registry-guard/public-access-guard/unverifiable',
    ]);
    expect(account.openRecords()).toEqual([]);
    expect(account.hubMock.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
    expect(result.securityHub).toEqual({ imported: 1, resolved: 0, failed: 0 });
  });

  test('off by default: nothing is sent, whatever the guard did', async () => {
    const account = new HubAccount();
    openRegistry(account);
    const result = await account.guard({})(configChangeEvent(ROLL));
    expect(account.hubMock.calls()).toHaveLength(0);
    expect(result.securityHub).toBeUndefined();
  });
});

describe('workflow: open, updated, resolved', () => {
  test('an imported finding is remembered open; the bucket found closed re-imports it PASSED and ARCHIVED, moves it to RESOLVED and forgets it', async () => {
    const account = new HubAccount();
    openRegistry(account);
    const first = await account.guard()(configChangeEvent(ROLL));
    expect(first.securityHub).toEqual({ imported: 1, resolved: 0, failed: 0 });
    const id = `registry-guard/${REGION}/${ACCOUNT}/${ROLL}/remediated`;
    expect(account.openRecords()).toEqual([
      `${EVIDENCE_PREFIXES.securityHubFindings}${ROLL}/remediated.json`,
    ]);

    // Later, any event that judges the bucket's own settings finds it closed.
    const later = at(30 * MINUTE);
    const second = await account.guard(ON, () => later)(cloudTrailBucketEvent('PutBucketTagging', ROLL));
    expect(second.buckets[0].compliance).toBe('COMPLIANT');
    const [, resolved] = account.imported();
    expect(asffProblems(resolved)).toEqual([]);
    expect(resolved).toMatchObject({
      Id: id,
      Compliance: { Status: 'PASSED' },
      RecordState: 'ARCHIVED',
      CreatedAt: NOW.toISOString(),
      UpdatedAt: later.toISOString(),
    });
    expect(resolved.Workflow).toBeUndefined();
    const [update] = account.hubMock.commandCalls(BatchUpdateFindingsCommand);
    expect(update.args[0].input).toMatchObject({
      FindingIdentifiers: [{ Id: id, ProductArn: PRODUCT_ARN }],
      Workflow: { Status: 'RESOLVED' },
      Note: { UpdatedBy: 'registry-guard' },
    });
    expect(second.securityHub).toEqual({ imported: 0, resolved: 1, failed: 0 });
    expect(account.openRecords()).toEqual([]);
  });

  test('a bucket remediated again updates its one finding and keeps when it was first seen', async () => {
    const account = new HubAccount();
    openRegistry(account);
    await account.guard()(configChangeEvent(ROLL));
    // Opened again, differently, an hour later: a new incident, the same finding.
    account.buckets.get(ROLL)!.policy = policyOf(publicStatement(ROLL, 'OpenAgain'));
    account.buckets.get(ROLL)!.blockPublicAccess = undefined;
    const later = at(60 * MINUTE);
    await account.guard(ON, () => later)(cloudTrailBucketEvent('PutBucketPolicy', ROLL));
    const [first, second] = account.imported();
    expect(second.Id).toBe(first.Id);
    expect(second).toMatchObject({
      CreatedAt: NOW.toISOString(),
      FirstObservedAt: NOW.toISOString(),
      UpdatedAt: later.toISOString(),
      LastObservedAt: later.toISOString(),
      RecordState: 'ACTIVE',
    });
  });

  test('only a compliant judgement of the bucket’s own settings resolves: not an object ACL’s, not a way in', async () => {
    const account = new HubAccount();
    openRegistry(account);
    await account.guard()(configChangeEvent(ROLL));
    // The same bucket judged closed, with findings off: an outcome to hand over by hand.
    const [compliant] = (await account.guard({})(configChangeEvent(ROLL))).buckets;
    expect(compliant.compliance).toBe('COMPLIANT');
    const runOf = (triggerKind: 'object-acl-api-call' | 'bucket-api-call') =>
      createRunContext({
        s3: account.s3,
        s3Control: account.s3Control,
        config: account.config,
        sns: account.sns,
        securityHub: account.securityHub,
        settings: readGuardSettings({ ...ON, EVIDENCE_BUCKET, AWS_REGION: REGION }),
        logger: account.logger,
        trigger: 'test',
        triggerKind,
        accountId: ACCOUNT,
        region: REGION,
        now: () => NOW,
        newId: () => 'id',
        remainingMs: () => Number.POSITIVE_INFINITY,
      });
    account.hubMock.resetHistory();

    const objectAcl = SecurityHubFindings.of(runOf('object-acl-api-call'));
    await objectAcl?.add(compliant, true);
    const wayIn = SecurityHubFindings.of(runOf('bucket-api-call'));
    await wayIn?.add(compliant, false);
    expect(await objectAcl?.flush()).toEqual({ imported: 0, resolved: 0, failed: 0 });
    expect(await wayIn?.flush()).toEqual({ imported: 0, resolved: 0, failed: 0 });
    expect(account.hubMock.calls()).toHaveLength(0);
    expect(account.openRecords()).toHaveLength(1);

    // The control: the bucket's own judgement on a bucket event resolves it.
    const bucketEvent = SecurityHubFindings.of(runOf('bucket-api-call'));
    await bucketEvent?.add(compliant, true);
    expect(await bucketEvent?.flush()).toEqual({ imported: 0, resolved: 1, failed: 0 });
  });
});

describe('one run changing a finding twice sends its latest state, once', () => {
  /** A remediated and a compliant outcome of one registry bucket whose finding is open. */
  async function twoOutcomes(account: HubAccount) {
    openRegistry(account);
    await account.guard()(configChangeEvent(ROLL));
    account.buckets.get(ROLL)!.policy = policyOf(publicStatement(ROLL, 'OpenAgain'));
    account.buckets.get(ROLL)!.blockPublicAccess = undefined;
    const [remediated] = (await account.guard({}, () => at(60 * MINUTE))(configChangeEvent(ROLL))).buckets;
    const [compliant] = (await account.guard({}, () => at(61 * MINUTE))(configChangeEvent(ROLL))).buckets;
    account.hubMock.resetHistory();
    const run = createRunContext({
      s3: account.s3,
      s3Control: account.s3Control,
      config: account.config,
      sns: account.sns,
      securityHub: account.securityHub,
      settings: readGuardSettings({ ...ON, EVIDENCE_BUCKET, AWS_REGION: REGION }),
      logger: account.logger,
      trigger: 'Config sweep',
      triggerKind: 'config-scheduled',
      accountId: ACCOUNT,
      region: REGION,
      now: () => at(62 * MINUTE),
      newId: () => 'id',
      remainingMs: () => Number.POSITIVE_INFINITY,
    });
    return { remediated, compliant, findings: SecurityHubFindings.of(run) };
  }

  test('closed, then opened through a way in (an access point): the finding stays ACTIVE', async () => {
    const account = new HubAccount();
    const { remediated, compliant, findings } = await twoOutcomes(account);
    await findings?.add(compliant, true);
    await findings?.add(remediated, false);
    await findings?.flush();
    const sent = account.imported();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ RecordState: 'ACTIVE', Compliance: { Status: 'FAILED' } });
    expect(account.hubMock.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(0);
  });

  test('remediated, then found closed: the new finding is what is resolved', async () => {
    const account = new HubAccount();
    const { remediated, compliant, findings } = await twoOutcomes(account);
    await findings?.add(remediated, false);
    await findings?.add(compliant, true);
    await findings?.flush();
    const sent = account.imported();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      RecordState: 'ARCHIVED',
      Compliance: { Status: 'PASSED' },
      CreatedAt: NOW.toISOString(),
      LastObservedAt: at(62 * MINUTE).toISOString(),
    });
    expect(account.hubMock.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(1);
  });
});

describe('a sweep of closed buckets', () => {
  test('calls Security Hub only for the bucket with an open finding, and lists the open findings once', async () => {
    const account = new HubAccount();
    account.listPageSize = 1000;
    for (let index = 0; index < 300; index += 1) {
      account.addBucket(`closed-${index.toString().padStart(3, '0')}`, { blockPublicAccess: ALL_ON });
    }
    openRegistry(account);
    await account.guard()(configChangeEvent(ROLL));
    account.hubMock.resetHistory();
    account.s3Mock.resetHistory();

    const result = await account
      .guard(ON, () => at(24 * 60 * MINUTE))(scheduledEvent())
      .catch((error: unknown) => error);

    expect(account.hubMock.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
    expect(account.hubMock.commandCalls(BatchUpdateFindingsCommand)).toHaveLength(1);
    expect(account.imported().map((finding) => finding.Id)).toEqual([
      `registry-guard/${REGION}/${ACCOUNT}/${ROLL}/remediated`,
    ]);
    const listings = account.s3Mock
      .commandCalls(ListObjectsV2Command)
      .filter((call) => call.args[0].input.Prefix?.startsWith(EVIDENCE_PREFIXES.securityHubFindings));
    expect(listings).toHaveLength(1);
    expect((result as { securityHub?: unknown }).securityHub).toEqual({
      imported: 0,
      resolved: 1,
      failed: 0,
    });
  });

  test('sends more than 100 findings in calls of at most 100', async () => {
    const account = new HubAccount();
    for (let index = 0; index < 150; index += 1) {
      const bucket = `hidden-${index.toString().padStart(3, '0')}`;
      account.addBucket(bucket, {});
      account.failAlways('GetBucketPolicy', bucket, s3Error('AccessDenied', 'Access Denied', 403));
    }
    await account
      .guard()(scheduledEvent())
      .catch((error: unknown) => error);
    const sizes = account.hubMock
      .commandCalls(BatchImportFindingsCommand)
      .map((call) => call.args[0].input.Findings?.length);
    expect(sizes).toEqual([100, 50]);
    expect(new Set(account.imported().map((finding) => finding.Id)).size).toBe(150);
  });
});

describe('Security Hub failing never costs the remediation', () => {
  test('a finding Security Hub refuses (FailedFindings) is counted and logged, not remembered; the bucket is closed and on-call told', async () => {
    const account = new HubAccount();
    openRegistry(account);
    account.hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings: AwsSecurityFinding[] }) => ({
      FailedCount: 1,
      SuccessCount: input.Findings.length - 1,
      FailedFindings: [
        { Id: input.Findings[0].Id, ErrorCode: 'InvalidInput', ErrorMessage: 'Finding is invalid' },
      ],
    }));
    const result = await account.guard()(configChangeEvent(ROLL));

    expect(result.securityHub).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(account.openRecords()).toEqual([]);
    expect(account.buckets.get(ROLL)?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.evidence().size).toBe(1);
    expect(account.notices()).toHaveLength(1);
    expect(account.logger.errors()).toContain(
      'Security Hub findings not sent: Security Hub refused it (InvalidInput: Finding is invalid)',
    );
  });

  test('a failed count Security Hub does not itemise takes none of the batch as accepted', async () => {
    const account = new HubAccount();
    openRegistry(account);
    account.hubMock
      .on(BatchImportFindingsCommand)
      .resolves({ FailedCount: 1, SuccessCount: 0, FailedFindings: [] });
    const result = await account.guard()(configChangeEvent(ROLL));
    expect(result.securityHub).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(account.openRecords()).toEqual([]);
  });

  test('Security Hub refusing the call (not enabled) fails no invocation', async () => {
    const account = new HubAccount();
    openRegistry(account);
    const notEnabled = Object.assign(
      new Error('Account 123456789012 is not subscribed to AWS Security Hub'),
      {
        name: 'InvalidAccessException',
      },
    );
    account.hubMock.on(BatchImportFindingsCommand).rejects(notEnabled);
    const result = await account.guard()(configChangeEvent(ROLL));
    expect(result.securityHub).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(result.buckets[0].remediation?.stillPublic).toBe(false);
    expect(account.logger.errors().join('\n')).toContain(
      'BatchImportFindings failed: InvalidAccessException',
    );
  });

  test('a resolution whose workflow update is unprocessed keeps its record, and the next run resolves it', async () => {
    const account = new HubAccount();
    openRegistry(account);
    await account.guard()(configChangeEvent(ROLL));
    account.hubMock.on(BatchUpdateFindingsCommand).callsFake((input: { FindingIdentifiers: object[] }) => ({
      ProcessedFindings: [],
      UnprocessedFindings: input.FindingIdentifiers.map((identifier) => ({
        FindingIdentifier: identifier,
        ErrorCode: 'FindingNotFound',
        ErrorMessage: 'not yet',
      })),
    }));
    const second = await account.guard()(cloudTrailBucketEvent('PutBucketTagging', ROLL));
    expect(second.securityHub).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(account.openRecords()).toHaveLength(1);

    account.hubMock.on(BatchUpdateFindingsCommand).callsFake((input: { FindingIdentifiers: object[] }) => ({
      ProcessedFindings: input.FindingIdentifiers,
      UnprocessedFindings: [],
    }));
    const third = await account.guard()(cloudTrailBucketEvent('PutBucketTagging', ROLL));
    expect(third.securityHub).toEqual({ imported: 0, resolved: 1, failed: 0 });
    expect(account.openRecords()).toEqual([]);
  });

  test('a Security Hub SDK that cannot be loaded fails no invocation either', async () => {
    const account = new HubAccount();
    openRegistry(account);
    let sequence = 0;
    const handler = createHandler({
      s3: account.s3,
      s3Control: account.s3Control,
      config: account.config,
      sns: account.sns,
      sts: account.sts,
      // As a bundle shipped without security-hub-sdk.js would fail to build the client.
      get securityHub(): SecurityHubClient {
        throw new Error("Cannot find module './security-hub-sdk'");
      },
      logger: account.logger,
      now: () => NOW,
      newId: () => `id${(sequence += 1).toString().padStart(6, '0')}`,
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN, ...ON },
    });
    const result = await handler(configChangeEvent(ROLL));
    expect(result.securityHub).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(result.buckets[0].remediation?.stillPublic).toBe(false);
    expect(account.logger.errors().join('\n')).toContain(
      "the Security Hub SDK could not be loaded: Error: Cannot find module './security-hub-sdk'",
    );
  });

  test('without a Security Hub client the findings are logged as not sent', async () => {
    const account = new HubAccount();
    openRegistry(account);
    const result = await account.handler(ON)(configChangeEvent(ROLL));
    expect(result.securityHub).toEqual({ imported: 0, resolved: 0, failed: 1 });
    expect(account.logger.errors()).toContain(
      'Security Hub findings not sent: SECURITY_HUB_FINDINGS is on but the handler was given no Security Hub client',
    );
  });
});

const describeWithMoto = motoAvailable() ? describe : describe.skip;

describeWithMoto('open findings in the evidence bucket, on moto’s S3', () => {
  let moto: MotoServer;
  let restoreEnvironment: () => void;

  beforeAll(async () => {
    moto = await startMotoServer();
    restoreEnvironment = pointAwsAt(moto.port);
  });

  afterAll(async () => {
    restoreEnvironment?.();
    await moto?.stop();
  });

  beforeEach(async () => {
    await moto.reset();
  });

  test('the real SDK client sends the finding as built (moto’s BatchImportFindings)', async () => {
    const s3 = new S3Client({});
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: 'roll-real' }));
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: 'roll-real', Policy: policyOf(publicStatement('roll-real')) }),
    );
    const deps = defaultDeps();
    useLoopbackHost(deps.s3Control);
    const handler = createHandler({
      ...deps,
      logger: new RecordingLogger(),
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, ...ON },
    });
    const result = await handler(cloudTrailBucketEvent('PutBucketPolicy', 'roll-real'));
    expect(result.securityHub).toEqual({ imported: 1, resolved: 0, failed: 0 });
    const { Findings } = await new SecurityHubClient({}).send(new GetFindingsCommand({}));
    const finding = Findings?.find((candidate) => candidate.Id?.endsWith('/roll-real/remediated'));
    expect(finding).toBeDefined();
    expect(asffProblems(finding as AwsSecurityFinding)).toEqual([]);
    expect(finding).toMatchObject({
      ProductArn: PRODUCT_ARN,
      Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::roll-real' }],
      Severity: { Label: 'MEDIUM' },
    });
  });

  test('a remediation leaves a record of its open finding; the bucket found closed deletes it', async () => {
    const s3 = new S3Client({});
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: OPEN_DATA }));
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: OPEN_DATA, Policy: policyOf(publicStatement(OPEN_DATA)) }),
    );
    const deps = defaultDeps();
    useLoopbackHost(deps.s3Control);
    const securityHub = new SecurityHubClient({});
    const hubMock = mockClient(securityHub);
    hubMock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
    hubMock.on(BatchUpdateFindingsCommand).callsFake((input: { FindingIdentifiers: object[] }) => ({
      ProcessedFindings: input.FindingIdentifiers,
      UnprocessedFindings: [],
    }));
    const handler = createHandler({
      ...deps,
      securityHub,
      logger: new RecordingLogger(),
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, ...ON },
    });
    const records = async (): Promise<string[]> =>
      (
        (
          await s3.send(
            new ListObjectsV2Command({
              Bucket: EVIDENCE_BUCKET,
              Prefix: EVIDENCE_PREFIXES.securityHubFindings,
            }),
          )
        ).Contents ?? []
      ).map((object) => object.Key ?? '');

    const first = await handler(cloudTrailBucketEvent('PutBucketPolicy', OPEN_DATA));
    expect(first.securityHub).toEqual({ imported: 1, resolved: 0, failed: 0 });
    expect(await records()).toEqual([`${EVIDENCE_PREFIXES.securityHubFindings}${OPEN_DATA}/remediated.json`]);

    const second = await handler(cloudTrailBucketEvent('PutBucketTagging', OPEN_DATA));
    expect(second.buckets[0].compliance).toBe('COMPLIANT');
    expect(second.securityHub).toEqual({ imported: 0, resolved: 1, failed: 0 });
    expect(await records()).toEqual([]);
    const [, resolved] = hubMock
      .commandCalls(BatchImportFindingsCommand)
      .flatMap((call) => call.args[0].input.Findings ?? []);
    expect(resolved).toMatchObject({ Compliance: { Status: 'PASSED' }, RecordState: 'ARCHIVED' });
  });
});
