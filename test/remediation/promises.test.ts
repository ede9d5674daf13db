/**
 * The pieces behind the guard's promises, one at a time, on the in-memory account: settings that cannot
 * loosen it, exemptions with a maximum, the registry ledger failing closed, incidents and their windows,
 * pending notices left to their writer, refused input, the sweep's clock and the Lambda context.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { isRegistryClassificationTag } from '../../lib/classification';
import { decideBucket } from '../../lib/remediation/decide/decision';
import { readExemption } from '../../lib/remediation/decide/exemption';
import { stateFingerprint } from '../../lib/remediation/decide/incident';
import { DeliveryError } from '../../lib/remediation/errors';
import { isCloudFormationResponseUrl } from '../../lib/remediation/events';
import { readGuardSettings } from '../../lib/remediation/settings';
import { SWEEP_TIME_RESERVE_MS } from '../../lib/remediation/triggers/config-sweep';
import {
  ALL_ON,
  cloudFormationRequest,
  cloudTrailBucketEvent,
  configChangeEvent,
  FakeAccount,
  NOW,
  policyOf,
  publicStatement,
  REGISTRY_TAG,
  ResponseServer,
  s3Error,
  scheduledEvent,
  ALL_OFF as OPEN_BPA,
  lambdaContext,
} from './support';

const EXEMPTION = (expires: string) => [
  { Key: 'registry-guard:public-exemption', Value: 'Open data, SEC-1234' },
  { Key: 'registry-guard:exemption-expires', Value: expires },
];

describe('settings never loosen the guard', () => {
  test('defaults: 90-day exemptions, 15-minute incidents, nothing released', () => {
    const settings = readGuardSettings({});
    expect(settings).toMatchObject({ maxExemptionDays: 90, incidentWindowMs: 900_000, warnings: [] });
    expect([...settings.releasedRegistries]).toEqual([]);
  });

  test.each(['0', '-5', '99999', 'ninety', '1e3', ' '])(
    'MAX_EXEMPTION_DAYS %j falls back to 90 with a warning',
    (value) => {
      const settings = readGuardSettings({ MAX_EXEMPTION_DAYS: value });
      expect(settings.maxExemptionDays).toBe(90);
      if (value.trim() !== '')
        expect(settings.warnings).toEqual([
          expect.stringMatching(/^MAX_EXEMPTION_DAYS ".*" is not a whole number/),
        ]);
    },
  );

  test('RELEASED_REGISTRY_BUCKETS is a comma-separated list of exact names', () => {
    expect([
      ...readGuardSettings({ RELEASED_REGISTRY_BUCKETS: ' old-roll, ,census-2010 ' }).releasedRegistries,
    ]).toEqual(['old-roll', 'census-2010']);
  });
});

describe('the classification tag', () => {
  test.each([
    ['registry-guard:classification', 'sensitive-registry', true],
    ['registry-guard:classification', 'Sensitive-Registry', true],
    ['Registry-Guard:Classification', ' SENSITIVE-REGISTRY ', true],
    ['registry-guard:classification', 'sensitive-registry-old', false],
    ['registry-guard:classification', 'public', false],
    ['classification', 'sensitive-registry', false],
  ])('%j = %j is a registry: %s', (key, value, expected) => {
    expect(isRegistryClassificationTag(key, value)).toBe(expected);
  });
});

describe('exemptions have a maximum length', () => {
  test('90 days from today is allowed; 91 is not', () => {
    expect(readExemption(EXEMPTION('2027-02-23'), NOW, 90)).toMatchObject({ status: 'valid' });
    expect(readExemption(EXEMPTION('2027-02-24'), NOW, 90)).toEqual({
      status: 'invalid',
      why: 'exemption ignored: 2027-02-24 is more than 90 days away, the longest an exemption may run',
    });
  });

  test('the maximum is configurable', () => {
    expect(readExemption(EXEMPTION('2026-12-20'), NOW, 7).status).toBe('invalid');
    expect(readExemption(EXEMPTION('2026-12-01'), NOW, 7).status).toBe('valid');
  });
});

describe('registry status', () => {
  const state = {
    bucket: 'roll',
    tags: EXEMPTION('2026-12-20'),
    acl: {},
    policy: policyOf(publicStatement('roll')),
  };

  test('known to the ledger and untagged: still a registry, the removed tag is the first problem, the exemption ignored', () => {
    const decision = decideBucket({
      state,
      accountBlockPublicAccess: { status: 'none' },
      now: NOW,
      ledger: { status: 'known', since: '2026-01-01T00:00:00.000Z' },
    });
    expect(decision).toMatchObject({ isRegistry: true, compliance: 'NON_COMPLIANT' });
    expect(decision.problems[0]).toBe(
      'registry classification tag registry-guard:classification removed or changed',
    );
    expect(decision.notes).toContain('exemption tags ignored: a registry bucket is never exempt');
  });

  test('released through the deployment: ordinary, and its valid exemption holds', () => {
    const decision = decideBucket({
      state,
      accountBlockPublicAccess: { status: 'none' },
      now: NOW,
      ledger: { status: 'known', since: '2026-01-01T00:00:00.000Z' },
      releasedRegistries: new Set(['roll']),
    });
    expect(decision).toMatchObject({ isRegistry: false, compliance: 'NOT_APPLICABLE' });
  });

  test('an unreadable ledger is no proof the bucket was never a registry: the exemption is not honoured', () => {
    const decision = decideBucket({
      state,
      accountBlockPublicAccess: { status: 'none' },
      now: NOW,
      ledger: { status: 'unreadable', error: 'AccessDenied' },
    });
    expect(decision.compliance).toBe('NON_COMPLIANT');
    expect(decision.notes).toContainEqual(
      expect.stringMatching(/^exemption not honoured: could not confirm/),
    );
  });

  test('report mode reads the ledger but never writes it', async () => {
    const account = new FakeAccount().addBucket('roll', { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON });
    await account.handler({ GUARD_MODE: 'report' })(cloudTrailBucketEvent('PutBucketTagging', 'roll'));
    expect(account.records('_registries/').size).toBe(0);
    expect(account.operations().filter((operation) => /^(Put|Delete)/.test(operation))).toEqual([]);
  });
});

describe('incidents', () => {
  test('the fingerprint ignores tag order and changes with the policy', () => {
    const a = { bucket: 'roll', tags: [REGISTRY_TAG, { Key: 'team', Value: 'x' }], acl: {} };
    const b = { ...a, tags: [...a.tags].reverse() };
    expect(stateFingerprint(a)).toBe(stateFingerprint(b));
    expect(stateFingerprint({ ...a, policy: '{}' })).not.toBe(stateFingerprint(a));
  });

  test('the same open state after the window is a new incident: paged again', async () => {
    const account = new FakeAccount();
    let now = NOW;
    const handler = account.handler({}, { now: () => now });
    account.addBucket('roll', { tags: [REGISTRY_TAG], blockPublicAccess: OPEN_BPA });
    // Block Public Access denied: the bucket stays in its state, so every event sees the same one.
    account.failAlways('PutPublicAccessBlock', 'roll', s3Error('AccessDenied', 'SCP', 403));
    await handler(cloudTrailBucketEvent('PutBucketPolicy', 'roll'));
    await handler(cloudTrailBucketEvent('PutBucketAcl', 'roll'));
    expect(account.notices()).toHaveLength(1);
    now = new Date(NOW.getTime() + 16 * 60 * 1000);
    await handler(cloudTrailBucketEvent('PutBucketAcl', 'roll'));
    expect(account.notices()).toHaveLength(2);
  });

  test('a duplicate still turns on Block Public Access, but writes no evidence and counts nothing', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    account.failNext('PutPublicAccessBlock', 'roll', s3Error('SlowDown', 'slow down', 503));
    const handler = account.handler();
    await handler(cloudTrailBucketEvent('PutBucketPolicy', 'roll'));
    const second = await handler(cloudTrailBucketEvent('PutBucketAcl', 'roll'));
    expect(second.buckets[0].incident?.role).toBe('duplicate');
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.evidence().size).toBe(1);
    expect(account.notices()).toHaveLength(1);
    // The storm metric counts incidents whose owner changed the bucket; the owner's failure pages on its own.
    expect(account.logger.entries.filter((entry) => entry.attributes.remediated === true)).toHaveLength(0);
  });
});

describe('pending notices', () => {
  test('a failed notice is kept pending and delivered, marked late, by the next invocation of any kind', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    account.snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('down'), { name: 'InternalError' }));
    await expect(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'roll'))).rejects.toBeInstanceOf(
      DeliveryError,
    );
    expect(account.records('_pending-notices/').size).toBe(1);
    account.snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    await account.handler({}, { pendingNoticeMinAgeMs: 0 })(scheduledEvent());
    expect(account.records('_pending-notices/').size).toBe(0);
    expect(account.notices().filter((notice) => notice.message.includes('Delivered late'))).toHaveLength(1);
  });

  test('report mode keeps no pending record: a failed notice fails the invocation, and the retry composes it again', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    account.snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('down'), { name: 'InternalError' }));
    const handler = account.handler({ GUARD_MODE: 'report' });
    await expect(handler(cloudTrailBucketEvent('PutBucketPolicy', 'roll'))).rejects.toThrow(
      /not kept anywhere/,
    );
    account.snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const retry = await handler(cloudTrailBucketEvent('PutBucketPolicy', 'roll'));
    expect(retry.noticesSent).toBe(1);
  });
});

describe('input is verified', () => {
  test.each([
    [
      'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A?X-Amz-Signature=1',
      true,
    ],
    ['https://cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com/arn?sig=1', true],
    ['https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x', true],
    ['https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1/arn', true],
    ['https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x', true],
    ['http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x', false],
    ['https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/x', false],
    ['https://user:pw@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x', false],
    ['https://attacker-bucket.s3.amazonaws.com/x', false],
    ['https://s3.amazonaws.com/attacker-bucket/cloudformation-custom-resource-response-useast1', false],
    ['https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example/x', false],
    ['https://cloudformation-custom-resource-response-useast1.nots3.amazonaws.com/x', false],
    ['https://cloudformation-custom-resource-response-.s3.amazonaws.com/x', false],
    ['https://169.254.169.254/latest/meta-data', false],
    ['https://cloudformation-custom-resource-response-attacker.s3.amazonaws.com/x', false],
  ])('%s is a CloudFormation response URL: %s', (url, expected) => {
    expect(isCloudFormationResponseUrl(new URL(url))).toBe(expected);
  });

  test('with the stack’s Region known, only that Region’s response bucket is CloudFormation’s', () => {
    const url = (suffix: string) =>
      new URL(`https://cloudformation-custom-resource-response-${suffix}.s3.amazonaws.com/x`);
    expect(isCloudFormationResponseUrl(url('useast1'), 'us-east-1')).toBe(true);
    expect(isCloudFormationResponseUrl(url('uswest2'), 'us-east-1')).toBe(false);
    expect(isCloudFormationResponseUrl(url('useast1x1'), 'us-east-1')).toBe(false);
  });

  test.each([
    [
      'a Config change for another account',
      { ...configChangeEvent('roll'), accountId: '999988887777' },
      /names account 999988887777/,
    ],
    ['a Config change for another Region', configChangeWithRegion('eu-west-1'), /names Region eu-west-1/],
    [
      'a sweep for another account',
      { ...scheduledEvent(), accountId: '999988887777' },
      /names account 999988887777/,
    ],
  ])('%s is refused before any read', async (_name, event, reason) => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    const result = await account.handler()(event);
    expect(result.ignored).toMatch(reason);
    expect(account.operations()).toEqual([]);
    expect(account.evaluations()).toEqual([]);
    expect(account.logger.errors()[0]).toMatch(/^Event refused, nothing read or changed: /);
  });

  test('a CloudFormation request from a stack in another account is answered FAILED, nothing read', async () => {
    const server = await new ResponseServer().start();
    try {
      const account = new FakeAccount();
      const request = cloudFormationRequest('Create', server.responseUrl(), {
        StackId:
          'arn:aws:cloudformation:us-east-1:999988887777:stack/other/8c4f2a10-ca71-11f0-9d3e-0a1b2c3d4e5f',
      });
      const result = await account.handler()(request);
      expect(result.ignored).toMatch(/names account 999988887777/);
      expect(server.bodies()[0]).toMatchObject({
        Status: 'FAILED',
        Reason: expect.stringMatching(/^registry-guard refused the request/),
      });
      expect(account.operations()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('the Lambda context names the account: STS is not asked', async () => {
    const account = new FakeAccount().addBucket('roll', { blockPublicAccess: ALL_ON });
    await account.handler()(
      cloudTrailBucketEvent('PutBucketPolicy', 'roll'),
      lambdaContext(() => 60_000),
    );
    expect(account.stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });
});

describe('the handler and Lambda’s context', () => {
  test('a sweep starts no bucket within the reserve of its remaining time, and fails so the retry covers the rest', async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 20; index += 1)
      account.addBucket(`bucket-${String(index).padStart(2, '0')}`, { blockPublicAccess: ALL_ON });
    let calls = 0;
    const remaining = () => (calls++ < 10 ? 120_000 : SWEEP_TIME_RESERVE_MS - 1);
    const run = account.handler()(scheduledEvent(), lambdaContext(remaining));
    await expect(run).rejects.toThrow(/the sweep stopped with \d+ of 21 buckets not judged/);
    // Every bucket judged got its evaluation before the invocation failed.
    expect(account.evaluations().length).toBeGreaterThan(0);
    expect(account.evaluations().length).toBeLessThan(21);
  });

  test('a logger with addContext (Powertools) receives the Lambda context', async () => {
    const account = new FakeAccount();
    const contexts: unknown[] = [];
    Object.assign(account.logger, { addContext: (context: unknown) => contexts.push(context) });
    const context = lambdaContext(() => 60_000);
    await account.handler()(scheduledEvent(), context);
    expect(contexts).toEqual([context]);
  });
});

function configChangeWithRegion(region: string): Record<string, unknown> {
  const event = configChangeEvent('roll');
  const invoking = JSON.parse(event.invokingEvent as string) as {
    configurationItem: Record<string, unknown>;
  };
  invoking.configurationItem.awsRegion = region;
  return { ...event, invokingEvent: JSON.stringify(invoking) };
}
