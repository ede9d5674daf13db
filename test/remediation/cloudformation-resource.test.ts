/**
 * The deploy-time custom resource: CloudFormation asks the guard to turn on the account's Block Public
 * Access and waits for an answer at a pre-signed URL. A real HTTP server on loopback receives that answer.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE } from '../../lib/classification';
import {
  cloudFormationResponseBody,
  MAX_RESPONSE_BYTES,
} from '../../lib/remediation/answer/cloudformation-response';
import {
  DeliveryError,
  InvalidCustomResourceRequestError,
  InvalidEventError,
} from '../../lib/remediation/errors';
import { describeEvent, parseGuardEvent } from '../../lib/remediation/events';
import {
  ACCOUNT,
  ALL_ON,
  CUSTOM_RESOURCE_LOGICAL_ID,
  cloudFormationRequest,
  EVIDENCE_BUCKET,
  FakeAccount,
  isLoopbackOrCloudFormation,
  refusedUrl,
  ResponseServer,
  s3Error,
  STACK_ID,
} from './support';

const PHYSICAL_ID = `registry-guard-account-block-public-access-${ACCOUNT}`;
const REQUEST_ID = '3f6d8a2e-91b4-4c7d-b0e5-7a2c9f1d4e68';
const EVERY_SETTING = 'BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets';

let server: ResponseServer;

beforeEach(async () => {
  server = await new ResponseServer().start();
});

afterEach(async () => {
  await server.close();
});

/** Parse options for a request answered at the loopback server, as the test handler trusts it. */
const LOOPBACK = { isTrustedResponseUrl: isLoopbackOrCloudFormation };
/** A ResponseURL of the shape CloudFormation pre-signs: https, in its response bucket on Amazon S3. */
const CLOUDFORMATION_RESPONSE_URL =
  'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response?X-Amz-Signature=1';

/**
 * Neither the account setting nor any bucket was read or changed, nobody was told: the only calls are STS's
 * "which account am I" (to refuse requests for another account) and the guard's own bookkeeping (listing
 * the notices earlier invocations left pending).
 */
function expectNothingReadOrChanged(account: FakeAccount): void {
  expect(account.operationsBesideGuardRecords()).toEqual([]);
  expect(account.operations().filter((name) => /(^|:)(Put|Delete)/.test(name))).toEqual([]);
  expect(account.configMock.calls()).toHaveLength(0);
  expect(account.snsMock.calls()).toHaveLength(0);
  expect(account.stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(account.stsMock.calls().length);
}

/** The one answer the server received: a second one would mean CloudFormation was answered twice. */
function theAnswer(): Record<string, unknown> {
  expect(server.bodies()).toHaveLength(1);
  return server.bodies()[0];
}

describe('parsing a CloudFormation request', () => {
  test('the fixture → a Create for the account and region in its StackId', () => {
    const fixture = cloudFormationRequest('Create', CLOUDFORMATION_RESPONSE_URL);
    expect(parseGuardEvent(fixture)).toEqual({
      kind: 'account-block-public-access-request',
      requestType: 'Create',
      responseUrl: CLOUDFORMATION_RESPONSE_URL,
      stackId: STACK_ID,
      requestId: REQUEST_ID,
      logicalResourceId: CUSTOM_RESOURCE_LOGICAL_ID,
      physicalResourceId: undefined,
      accountId: ACCOUNT,
      region: 'us-east-1',
    });
  });

  test('the fixture as CloudFormation sends it: a pre-signed https ResponseURL, kept exactly', () => {
    const fixture = JSON.parse(
      fs.readFileSync(
        path.join(
          __dirname,
          '../fixtures/remediation/cloudformation-create-account-block-public-access.json',
        ),
        'utf8',
      ),
    ) as Record<string, unknown>;
    expect(parseGuardEvent(fixture)).toMatchObject({
      kind: 'account-block-public-access-request',
      requestType: 'Create',
      responseUrl: fixture.ResponseURL,
      accountId: ACCOUNT,
    });
  });

  test('another partition and region: read from the StackId', () => {
    const stackId = 'arn:aws-us-gov:cloudformation:us-gov-west-1:210987654321:stack/guard/1a2b';
    expect(
      parseGuardEvent(cloudFormationRequest('Create', server.responseUrl(), { StackId: stackId }), LOOPBACK),
    ).toMatchObject({
      accountId: '210987654321',
      region: 'us-gov-west-1',
    });
  });

  test('describeEvent says it came from the CloudFormation deployment', () => {
    const event = parseGuardEvent(cloudFormationRequest('Update', server.responseUrl()), LOOPBACK);
    expect(describeEvent(event)).toBe(
      `CloudFormation Update of ${ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}`,
    );
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'another ResourceType',
      { ResourceType: 'Custom::Other' },
      /ResourceType "Custom::Other" is not Custom::RegistryGuardAccountBlockPublicAccess/,
    ],
    [
      'an unknown RequestType',
      { RequestType: 'Replace' },
      /RequestType "Replace" is not Create, Update or Delete/,
    ],
    [
      'a StackId that is not a stack ARN',
      { StackId: 'my-stack' },
      /StackId "my-stack" is not a CloudFormation stack ARN/,
    ],
    [
      'a property of its own',
      { ResourceProperties: { ServiceToken: 'arn', RestrictPublicBuckets: 'false' } },
      /ResourceProperties RestrictPublicBuckets not supported/,
    ],
  ])(
    'answerable but invalid (%s) → InvalidCustomResourceRequestError with the ids to answer',
    (_case, changes, problem) => {
      const parse = (): unknown =>
        parseGuardEvent(cloudFormationRequest('Create', server.responseUrl(), changes), LOOPBACK);
      expect(parse).toThrow(InvalidCustomResourceRequestError);
      expect(parse).toThrow(InvalidEventError);
      expect(parse).toThrow(problem);
    },
  );
});

describe('Create and Update', () => {
  test('Create on an account with no Block Public Access: evidence first, all four on and read back, SUCCESS', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = undefined;
    const result = await account.handler()(cloudFormationRequest('Create', server.responseUrl()));

    expect(account.operationsBesideGuardRecords()).toEqual([
      's3control:GetPublicAccessBlock',
      'PutObject',
      's3control:PutPublicAccessBlock',
      's3control:GetPublicAccessBlock',
    ]);
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
    const [evidenceWrite] = account.s3Mock.commandCalls(PutObjectCommand);
    const key = evidenceWrite.args[0].input.Key ?? '';
    expect(account.evidence().get(key)).toMatchObject({
      account: ACCOUNT,
      region: 'us-east-1',
      event: `CloudFormation Create of ${ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}`,
      before: { accountBlockPublicAccess: null },
    });
    const evidenceUri = `s3://${EVIDENCE_BUCKET}/${key}`;
    // The evidence is pinned: the version S3 gave it and the SHA-256 of the bytes it holds.
    const { VersionId: version } = (await evidenceWrite.returnValue) as { VersionId: string };
    expect(version).toBeDefined();
    const sha256 = createHash('sha256')
      .update(account.objects.get(`${EVIDENCE_BUCKET}/${key}`) ?? '')
      .digest('hex');
    expect(theAnswer()).toEqual({
      Status: 'SUCCESS',
      Reason:
        `Account ${ACCOUNT}: turned on account-level Block Public Access (BlockPublicAcls, IgnorePublicAcls, ` +
        `BlockPublicPolicy, RestrictPublicBuckets), verified by reading it back; previous setting kept in ${evidenceUri} version ${version}`,
      PhysicalResourceId: PHYSICAL_ID,
      StackId: STACK_ID,
      RequestId: REQUEST_ID,
      LogicalResourceId: CUSTOM_RESOURCE_LOGICAL_ID,
      NoEcho: false,
      Data: {
        SettingsTurnedOn: EVERY_SETTING,
        EvidenceUri: evidenceUri,
        EvidenceVersionId: version,
        EvidenceSha256: sha256,
      },
    });
    expect(result.cloudFormationResponse?.status).toBe('SUCCESS');
  });

  test('the answer is a PUT to the pre-signed URL, with the empty content-type it was signed for', async () => {
    const account = new FakeAccount();
    await account.handler()(cloudFormationRequest('Create', server.responseUrl('abc')));
    const [request] = server.received;
    expect(request.method).toBe('PUT');
    expect(request.url).toBe('/arn%3Aaws%3Acloudformation/abc?X-Amz-Signature=0123456789abcdef');
    expect(request.headers['content-type']).toBe('');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(request.body)));
  });

  test('on-call hears that the deployment turned it on, with the previous setting and the evidence', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = { ...ALL_ON, RestrictPublicBuckets: false };
    await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    const [notice] = account.notices();
    expect(notice.subject).toBe(`registry-guard: restored account ${ACCOUNT} Block Public Access`);
    expect(notice.message.split('\n')).toEqual(
      expect.arrayContaining([
        `Trigger: CloudFormation Create of ${ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}`,
        'Account-level Block Public Access settings off: RestrictPublicBuckets',
        `- Turned on all four account-level Block Public Access settings for ${ACCOUNT}: done, verified by reading it back`,
      ]),
    );
    expect(theAnswer()).toMatchObject({
      Status: 'SUCCESS',
      Data: { SettingsTurnedOn: 'RestrictPublicBuckets' },
    });
  });

  test('already all on (as under an Organizations S3 policy, which denies any write): read only, no Put, SUCCESS', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    // Under an S3 policy the write is denied: were the guard to try it, the answer would be FAILED.
    account.failAlways('PutAccountPublicAccessBlock', ACCOUNT, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(account.operationsBesideGuardRecords()).toEqual(['s3control:GetPublicAccessBlock']);
    expect(theAnswer()).toMatchObject({
      Status: 'SUCCESS',
      Reason: `Account ${ACCOUNT}: account-level Block Public Access was already all on; nothing changed`,
      PhysicalResourceId: PHYSICAL_ID,
      Data: { SettingsTurnedOn: 'none' },
    });
    expect(account.notices()).toEqual([]);
  });

  test('Update behaves like Create and keeps the same PhysicalResourceId, so CloudFormation deletes nothing', async () => {
    const account = new FakeAccount();
    const handler = account.handler();
    account.accountBlockPublicAccess = undefined;
    await handler(cloudFormationRequest('Create', server.responseUrl('create')));
    account.accountBlockPublicAccess = { ...ALL_ON, BlockPublicPolicy: false };
    await handler(cloudFormationRequest('Update', server.responseUrl('update')));

    const [create, update] = server.bodies();
    expect(update).toMatchObject({ Status: 'SUCCESS', Data: { SettingsTurnedOn: 'BlockPublicPolicy' } });
    expect(update.PhysicalResourceId).toBe(create.PhysicalResourceId);
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
  });

  test('an Update from an older physical id is answered with the stable one', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    await account.handler()(
      cloudFormationRequest('Update', server.responseUrl(), { PhysicalResourceId: 'something-older' }),
    );
    expect(theAnswer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID });
  });

  test('no EVIDENCE_BUCKET: still turned on, and the reason says no evidence was written', async () => {
    const account = new FakeAccount();
    await account.handler({ EVIDENCE_BUCKET: undefined })(
      cloudFormationRequest('Create', server.responseUrl()),
    );
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
    const answer = theAnswer();
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { SettingsTurnedOn: EVERY_SETTING } });
    expect(answer.Reason).toMatch(/; no evidence written \(no EVIDENCE_BUCKET is set\)$/);
    expect(answer.Data).not.toHaveProperty('EvidenceUri');
  });

  test('the evidence write failing does not stop protection: SUCCESS, and the reason says why there is no evidence', async () => {
    const account = new FakeAccount();
    account.failAlways('PutObject', EVIDENCE_BUCKET, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
    expect(theAnswer().Reason).toMatch(
      /; no evidence written \(the write failed: AccessDenied: Access Denied\)$/,
    );
  });
});

describe('Create and Update that cannot end all on are FAILED, with one line saying why', () => {
  test('report mode: FAILED, saying the guard changes nothing so it cannot turn it on; nothing written', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = undefined;
    await account.handler({ GUARD_MODE: 'report' })(cloudFormationRequest('Create', server.responseUrl()));
    expect(account.operations()).toEqual(['s3control:GetPublicAccessBlock']);
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason:
        `Account ${ACCOUNT}: registry-guard is in report mode and changes nothing, so it cannot turn on ` +
        'account-level Block Public Access (off now: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, ' +
        'RestrictPublicBuckets). Deploy the guard in remediate mode, or without enforceAccountBlockPublicAccess.',
      PhysicalResourceId: PHYSICAL_ID,
    });
    expect(account.notices()[0].subject).toBe(
      `registry-guard: account ${ACCOUNT} Block Public Access is off`,
    );
  });

  test('report mode is never a silent pass, even when the setting is already all on', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    await account.handler({ GUARD_MODE: 'report' })(cloudFormationRequest('Update', server.responseUrl()));
    expect(theAnswer()).toMatchObject({ Status: 'FAILED' });
    expect(theAnswer().Reason).toContain('report mode and changes nothing, so it cannot turn on');
    expect(theAnswer().Reason).toContain('(it is all on already)');
  });

  test('an unknown GUARD_MODE means report mode: FAILED too', async () => {
    const account = new FakeAccount();
    await account.handler({ GUARD_MODE: 'fix' })(cloudFormationRequest('Create', server.responseUrl()));
    expect(theAnswer()).toMatchObject({ Status: 'FAILED' });
    expect(account.s3ControlMock.commandCalls(PutAccountPublicAccessBlockCommand)).toHaveLength(0);
  });

  test('PutPublicAccessBlock denied (an SCP): FAILED with the error, on-call told', async () => {
    const account = new FakeAccount();
    account.failAlways('PutAccountPublicAccessBlock', ACCOUNT, s3Error('AccessDenied', 'Access Denied', 403));
    const result = await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason: `Account ${ACCOUNT}: turning on account-level Block Public Access failed: AccessDenied: Access Denied`,
      PhysicalResourceId: PHYSICAL_ID,
      Data: {},
    });
    expect(account.notices()[0].subject).toBe(
      `registry-guard: account ${ACCOUNT} Block Public Access is off`,
    );
    expect(account.logger.errors()).toEqual(
      expect.arrayContaining(['Account-level Block Public Access checked', 'Answered CloudFormation FAILED']),
    );
    expect(result.account?.actions.map((action) => action.status)).toEqual(['done', 'failed']);
  });

  test('a write S3 acknowledges but that does not hold when read back: FAILED', async () => {
    const account = new FakeAccount();
    account.s3ControlMock.on(PutAccountPublicAccessBlockCommand).resolves({});
    await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason:
        `Account ${ACCOUNT}: turning on account-level Block Public Access failed: read back: still off: ` +
        'BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets',
    });
  });

  test('turned on but the read-back failed: FAILED, not verified', async () => {
    const account = new FakeAccount();
    account.s3ControlMock.on(PutAccountPublicAccessBlockCommand).callsFake((input) => {
      account.accountBlockPublicAccess = { ...input.PublicAccessBlockConfiguration };
      // The next read (the read-back) fails.
      account.failNext(
        'GetAccountPublicAccessBlock',
        ACCOUNT,
        s3Error('SlowDown', 'Please reduce your request rate', 503),
      );
      return {};
    });
    await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason:
        `Account ${ACCOUNT}: turned on account-level Block Public Access but could not verify it: ` +
        'could not read back: SlowDown: Please reduce your request rate',
    });
  });

  test('unreadable: FAILED, nothing changed, on-call told', async () => {
    const account = new FakeAccount();
    account.failAlways('GetAccountPublicAccessBlock', ACCOUNT, s3Error('AccessDenied', 'Access Denied', 403));
    await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(account.operationsBesideGuardRecords()).toEqual(['s3control:GetPublicAccessBlock']);
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason: `Account ${ACCOUNT}: could not read account-level Block Public Access (AccessDenied: Access Denied), so nothing was changed`,
    });
    expect(account.notices()[0].subject).toBe(
      `registry-guard: could not verify account ${ACCOUNT} Block Public Access`,
    );
  });

  test('a throw while serving still gets an answer: FAILED naming the error, and the handler does not throw', async () => {
    const account = new FakeAccount();
    const handler = account.handler(
      {},
      {
        now: () => {
          throw new Error('the clock is broken');
        },
      },
    );
    const result = await handler(cloudFormationRequest('Create', server.responseUrl()));
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason: `Account ${ACCOUNT}: registry-guard failed: Error: the clock is broken`,
      PhysicalResourceId: PHYSICAL_ID,
    });
    expect(result.cloudFormationResponse?.status).toBe('FAILED');
    expect(account.logger.errors()).toContain(
      'Serving the CloudFormation request failed: Error: the clock is broken',
    );
  });
});

describe('Delete', () => {
  test('answers SUCCESS with the same physical id and neither reads nor changes anything: removing the guard never loosens access', async () => {
    const account = new FakeAccount();
    account.accountBlockPublicAccess = ALL_ON;
    await account.handler()(cloudFormationRequest('Delete', server.responseUrl()));
    expectNothingReadOrChanged(account);
    expect(account.accountBlockPublicAccess).toEqual(ALL_ON);
    expect(theAnswer()).toMatchObject({
      Status: 'SUCCESS',
      Reason: `Account ${ACCOUNT}: nothing changed; removing registry-guard never loosens account-level Block Public Access`,
      PhysicalResourceId: PHYSICAL_ID,
      StackId: STACK_ID,
      RequestId: REQUEST_ID,
      LogicalResourceId: CUSTOM_RESOURCE_LOGICAL_ID,
    });
  });

  test('in report mode too', async () => {
    const account = new FakeAccount();
    await account.handler({ GUARD_MODE: 'report' })(cloudFormationRequest('Delete', server.responseUrl()));
    expectNothingReadOrChanged(account);
    // Report mode keeps no pending notices, so it has none to list.
    expect(account.operations()).toEqual([]);
    expect(theAnswer()).toMatchObject({ Status: 'SUCCESS' });
  });
});

describe('requests the guard does not serve', () => {
  test('another ResourceType, Create: answered FAILED with the one-line problem; nothing read; the handler does not throw', async () => {
    const account = new FakeAccount();
    const result = await account.handler()(
      cloudFormationRequest('Create', server.responseUrl(), { ResourceType: 'Custom::Other' }),
    );
    expectNothingReadOrChanged(account);
    expect(theAnswer()).toEqual({
      Status: 'FAILED',
      Reason:
        'registry-guard rejected the request: ResourceType "Custom::Other" is not Custom::RegistryGuardAccountBlockPublicAccess',
      PhysicalResourceId: PHYSICAL_ID,
      StackId: STACK_ID,
      RequestId: REQUEST_ID,
      LogicalResourceId: CUSTOM_RESOURCE_LOGICAL_ID,
      NoEcho: false,
      Data: {},
    });
    expect(result.trigger).toBe('CloudFormation Create of Custom::Other');
    expect(account.logger.errors()[0]).toMatch(
      /^InvalidCustomResourceRequestError: Event rejected: ResourceType "Custom::Other"/,
    );
  });

  test('another ResourceType, Delete: SUCCESS, so the rollback of the rejected Create can finish', async () => {
    const account = new FakeAccount();
    await account.handler()(
      cloudFormationRequest('Delete', server.responseUrl(), { ResourceType: 'Custom::Other' }),
    );
    expectNothingReadOrChanged(account);
    expect(theAnswer()).toMatchObject({
      Status: 'SUCCESS',
      Reason:
        'registry-guard did nothing (ResourceType "Custom::Other" is not Custom::RegistryGuardAccountBlockPublicAccess); removing it never loosens access',
      PhysicalResourceId: PHYSICAL_ID,
    });
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'an unknown RequestType',
      { RequestType: 'Replace' },
      'RequestType "Replace" is not Create, Update or Delete',
    ],
    [
      'a malformed StackId',
      { StackId: 'arn:aws:cloudformation:us-east-1:me:stack/guard/1' },
      'StackId "arn:aws:cloudformation:us-east-1:me:stack/guard/1" is not a CloudFormation stack ARN',
    ],
    [
      'a property the resource does not take',
      { ResourceProperties: { ServiceToken: 'arn', BlockPublicPolicy: 'false' } },
      'ResourceProperties BlockPublicPolicy not supported: the resource takes none',
    ],
    [
      'ResourceProperties not an object',
      { ResourceProperties: 'all' },
      'ResourceProperties is not an object',
    ],
  ])('%s: FAILED with the problem', async (_case, changes, problem) => {
    const account = new FakeAccount();
    await account.handler()(cloudFormationRequest('Create', server.responseUrl(), changes));
    expectNothingReadOrChanged(account);
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason: `registry-guard rejected the request: ${problem}`,
    });
  });

  test('an Update without PhysicalResourceId: FAILED', async () => {
    const account = new FakeAccount();
    await account.handler()(
      cloudFormationRequest('Update', server.responseUrl(), { PhysicalResourceId: undefined }),
    );
    expect(theAnswer()).toMatchObject({
      Status: 'FAILED',
      Reason:
        'registry-guard rejected the request: PhysicalResourceId is missing: CloudFormation sends it with every Update',
    });
  });

  test('a malformed StackId: the physical id cannot name the account, and says so', async () => {
    const account = new FakeAccount();
    await account.handler()(cloudFormationRequest('Create', server.responseUrl(), { StackId: 'my-stack' }));
    expect(theAnswer()).toMatchObject({
      StackId: 'my-stack',
      PhysicalResourceId: 'registry-guard-account-block-public-access-unknown-account',
    });
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['no ResponseURL', { ResponseURL: undefined }, /ResponseURL is missing or empty/],
    ['a ResponseURL that is not a URL', { ResponseURL: 'not a url' }, /ResponseURL is not a URL/],
    [
      'a ResponseURL that is not a trusted https S3 URL (file:)',
      { ResponseURL: 'file:///etc/passwd' },
      /ResponseURL "file:\/\/" is not an https CloudFormation response URL on an Amazon S3 host/,
    ],
    [
      'a ResponseURL that is not a trusted https S3 URL (another https host)',
      { ResponseURL: 'https://example.com/response?X-Amz-Signature=1' },
      /ResponseURL "https:\/\/example\.com" is not an https CloudFormation response URL on an Amazon S3 host/,
    ],
    [
      'a ResponseURL that is not a trusted https S3 URL (an S3 bucket not CloudFormation’s)',
      { ResponseURL: 'https://my-bucket.s3.amazonaws.com/response?X-Amz-Signature=1' },
      /is not an https CloudFormation response URL on an Amazon S3 host/,
    ],
    ['no StackId', { StackId: undefined }, /StackId is missing or empty/],
    ['no RequestId', { RequestId: '' }, /RequestId is missing or empty/],
    ['no LogicalResourceId', { LogicalResourceId: undefined }, /LogicalResourceId is missing or empty/],
  ])('%s: nobody can be answered, so InvalidEventError, before any call', async (_case, changes, problem) => {
    const account = new FakeAccount();
    const run = account.handler()(
      cloudFormationRequest('Create', server.responseUrl(), { ResourceType: 'Custom::Other', ...changes }),
    );
    await expect(run).rejects.toBeInstanceOf(InvalidEventError);
    await expect(run).rejects.toThrow(problem);
    await expect(run).rejects.not.toBeInstanceOf(InvalidCustomResourceRequestError);
    expect(account.totalCalls()).toBe(0);
    expect(server.received).toEqual([]);
  });
});

describe('when the answer cannot be delivered', () => {
  test('the response URL answers HTTP 500: the error is logged (without the signature) and the handler throws', async () => {
    const account = new FakeAccount();
    server.status = 500;
    const run = account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    await expect(run).rejects.toBeInstanceOf(DeliveryError);
    await expect(run).rejects.toThrow(/Answering CloudFormation SUCCESS failed: .*answered HTTP 500/);
    const [logged] = account.logger.entries.filter((entry) =>
      entry.message.startsWith('Answering CloudFormation'),
    );
    expect(logged.level).toBe('error');
    expect(JSON.stringify(logged)).not.toContain('X-Amz-Signature');
    expect(logged.attributes.responseUrl).toBe(
      `http://127.0.0.1:${server.port}/arn%3Aaws%3Acloudformation/request-1`,
    );
    // On-call was told before the answer failed: the retry will find the setting on and stay quiet.
    expect(account.notices()).toHaveLength(1);
  });

  test('the connection is refused: the handler throws', async () => {
    const account = new FakeAccount();
    const run = account.handler()(cloudFormationRequest('Delete', await refusedUrl()));
    await expect(run).rejects.toBeInstanceOf(DeliveryError);
    await expect(run).rejects.toThrow(
      /Answering CloudFormation SUCCESS failed: .*PUT to http:\/\/127\.0\.0\.1:\d+\/refused failed/,
    );
  });

  test('a rejected request whose answer fails: the handler throws too', async () => {
    const account = new FakeAccount();
    server.status = 403;
    const run = account.handler()(
      cloudFormationRequest('Create', server.responseUrl(), { ResourceType: 'Custom::Other' }),
    );
    await expect(run).rejects.toThrow(/Answering CloudFormation FAILED failed: .*answered HTTP 403/);
  });

  test('a notice that fails after the answer is logged, not thrown: CloudFormation has its answer', async () => {
    const account = new FakeAccount();
    account.snsMock.on(PublishCommand).rejects(s3Error('AuthorizationError', 'Not authorized'));
    const result = await account.handler()(cloudFormationRequest('Create', server.responseUrl()));
    expect(theAnswer()).toMatchObject({ Status: 'SUCCESS' });
    expect(result.noticesSent).toBe(0);
    expect(account.logger.errors()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Publishing the notice "registry-guard: restored account/),
      ]),
    );
  });
});

describe('cloudFormationResponseBody', () => {
  const request = {
    responseUrl: 'https://example.com/',
    stackId: STACK_ID,
    requestId: REQUEST_ID,
    logicalResourceId: CUSTOM_RESOURCE_LOGICAL_ID,
  };

  test('a long, multi-line reason is cut to one line that fits CloudFormation’s 4096 bytes', () => {
    const body = cloudFormationResponseBody(request, {
      status: 'FAILED',
      reason: `first line\n${'é'.repeat(5000)}`,
      physicalResourceId: PHYSICAL_ID,
      data: {},
    });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const reason = (JSON.parse(body) as { Reason: string }).Reason;
    expect(reason).toMatch(/^first line é+…$/);
  });

  test('a short reason is sent as it is', () => {
    const body = JSON.parse(
      cloudFormationResponseBody(request, {
        status: 'SUCCESS',
        reason: 'Account 123456789012: nothing changed',
        physicalResourceId: PHYSICAL_ID,
        data: { SettingsTurnedOn: 'none' },
      }),
    );
    expect(body.Reason).toBe('Account 123456789012: nothing changed');
  });
});
