import { decideBucket } from '../../lib/remediation/decide/decision';
import { readExemption } from '../../lib/remediation/decide/exemption';
import { aclWithoutPublicGrants, policyWithoutPublicStatements } from '../../lib/remediation/decide/rewrite';
import { LiveBucketState } from '../../lib/remediation/read/bucket-state';
import { EvaluationBatcher, truncate } from '../../lib/remediation/report/evaluations';
import { readGuardSettings } from '../../lib/remediation/settings';
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ALL_ON,
  ALL_USERS,
  auditorStatement,
  AUTHENTICATED_USERS,
  denyInsecureTransport,
  LOG_DELIVERY_GRANT,
  NOW,
  OWNER,
  OWNER_GRANT,
  policyOf,
  PUBLIC_READ_GRANT,
  publicStatement,
  RecordingLogger,
  REGISTRY_TAG,
} from './support';

const ROLL = 'electoral-roll';

function state(fields: Partial<LiveBucketState>): LiveBucketState {
  return { bucket: ROLL, tags: [], acl: { Owner: OWNER, Grants: [OWNER_GRANT] }, ...fields };
}

describe('decideBucket', () => {
  const none = { status: 'none' } as const;

  test.each<[string, Partial<LiveBucketState>, string]>([
    ['a private ordinary bucket without Block Public Access', {}, 'COMPLIANT'],
    ['an ordinary bucket public by its policy', { policy: policyOf(publicStatement(ROLL)) }, 'NON_COMPLIANT'],
    [
      'an ordinary bucket public by its ACL',
      { acl: { Owner: OWNER, Grants: [OWNER_GRANT, PUBLIC_READ_GRANT] } },
      'NON_COMPLIANT',
    ],
    [
      'an ordinary bucket whose public policy its own Block Public Access neutralises',
      { policy: policyOf(publicStatement(ROLL)), blockPublicAccess: ALL_ON },
      'COMPLIANT',
    ],
    [
      'a registry bucket with all four on and nothing public',
      { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON },
      'COMPLIANT',
    ],
    [
      'a registry bucket with a neutralised public statement',
      { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON, policy: policyOf(publicStatement(ROLL)) },
      'NON_COMPLIANT',
    ],
    [
      'a registry bucket with BlockPublicPolicy off and nothing public',
      { tags: [REGISTRY_TAG], blockPublicAccess: { ...ALL_ON, BlockPublicPolicy: false } },
      'NON_COMPLIANT',
    ],
    [
      'a registry bucket whose only statements are fixed principals and a deny',
      {
        tags: [REGISTRY_TAG],
        blockPublicAccess: ALL_ON,
        policy: policyOf(auditorStatement(ROLL), denyInsecureTransport(ROLL)),
      },
      'COMPLIANT',
    ],
    [
      'a bucket tagged with another classification is ordinary',
      {
        tags: [{ Key: REGISTRY_TAG.Key, Value: 'internal' }],
        policy: policyOf(publicStatement(ROLL)),
        blockPublicAccess: ALL_ON,
      },
      'COMPLIANT',
    ],
  ])('%s → %s', (_case, fields, compliance) => {
    expect(decideBucket({ state: state(fields), accountBlockPublicAccess: none, now: NOW }).compliance).toBe(
      compliance,
    );
  });

  test('account-level Block Public Access neutralises an ordinary bucket’s public ACL, and the note says which level', () => {
    const decision = decideBucket({
      state: state({ acl: { Owner: OWNER, Grants: [OWNER_GRANT, PUBLIC_READ_GRANT] } }),
      accountBlockPublicAccess: { status: 'found', configuration: { IgnorePublicAcls: true } },
      now: NOW,
    });
    expect(decision.compliance).toBe('COMPLIANT');
    expect(decision.notes).toEqual([
      'public ACL neutralised by account-level Block Public Access (IgnorePublicAcls)',
    ]);
  });

  test('its own Block Public Access neutralises an ordinary bucket’s public policy, and the note names the bucket level', () => {
    const decision = decideBucket({
      state: state({ policy: policyOf(publicStatement(ROLL)), blockPublicAccess: ALL_ON }),
      accountBlockPublicAccess: { status: 'found', configuration: ALL_ON },
      now: NOW,
    });
    expect(decision.notes).toEqual([
      'public policy neutralised by bucket-level Block Public Access (RestrictPublicBuckets)',
    ]);
  });

  test('a registry bucket open at bucket level behind a fully-on account setting relies on the account, and says so', () => {
    const decision = decideBucket({
      state: state({
        tags: [REGISTRY_TAG],
        policy: policyOf(publicStatement(ROLL)),
        acl: { Owner: OWNER, Grants: [OWNER_GRANT, PUBLIC_READ_GRANT] },
      }),
      accountBlockPublicAccess: { status: 'found', configuration: ALL_ON },
      now: NOW,
    });
    expect(decision).toMatchObject({
      compliance: 'NON_COMPLIANT',
      reliesOnAccountBlockPublicAccess: true,
      exposure: { isPublic: false, policyNeutralisedBy: 'account', aclNeutralisedBy: 'account' },
    });
    // The nuance the annotation adds says why they are not public now: "(neutralised)" would repeat it.
    expect(decision.problems).toEqual([
      'registry policy has a public statement',
      'registry ACL has a public grant',
      'registry Block Public Access off (all four)',
    ]);
  });

  test.each<
    [
      string,
      Partial<LiveBucketState>,
      { status: 'found'; configuration: typeof ALL_ON } | { status: 'unreadable'; error: string },
    ]
  >([
    [
      'its own settings are all on',
      { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON, policy: policyOf(publicStatement(ROLL)) },
      { status: 'found', configuration: ALL_ON },
    ],
    [
      'the account setting could not be read',
      { tags: [REGISTRY_TAG], policy: policyOf(publicStatement(ROLL)) },
      { status: 'unreadable', error: 'AccessDenied' },
    ],
    [
      'it is compliant',
      { tags: [REGISTRY_TAG], blockPublicAccess: ALL_ON },
      { status: 'found', configuration: ALL_ON },
    ],
  ])('a registry bucket does not rely on the account when %s', (_case, fields, accountBlockPublicAccess) => {
    const decision = decideBucket({ state: state(fields), accountBlockPublicAccess, now: NOW });
    expect(decision.reliesOnAccountBlockPublicAccess).toBe(false);
  });

  test('an ACL grant whose grantee cannot be read is "could not verify": NON_COMPLIANT, never COMPLIANT', () => {
    const unreadableGrant = { Permission: 'READ' as const };
    const decision = decideBucket({
      state: state({ acl: { Owner: OWNER, Grants: [OWNER_GRANT, unreadableGrant] } }),
      accountBlockPublicAccess: none,
      now: NOW,
    });
    expect(decision.compliance).toBe('NON_COMPLIANT');
    expect(decision.problems).toEqual(['ACL unreadable: could not verify']);
    expect(decision.exposure.reasons[0]).toContain('a grant names no grantee S3 knows');
  });

  test('an unreadable account setting is left out of the judgement, never assumed on', () => {
    const decision = decideBucket({
      state: state({ policy: policyOf(publicStatement(ROLL)) }),
      accountBlockPublicAccess: { status: 'unreadable', error: 'AccessDenied' },
      now: NOW,
    });
    expect(decision.compliance).toBe('NON_COMPLIANT');
  });
});

describe('readExemption', () => {
  const tags = (reason: string, expires: string) => [
    { Key: 'registry-guard:public-exemption', Value: reason },
    { Key: 'registry-guard:exemption-expires', Value: expires },
  ];

  test.each<[string, string, number, string]>([
    ['2027-01-31', '2026-11-25T03:00:00Z', 90, 'valid'],
    ['2026-11-25', '2026-11-25T23:59:59Z', 90, 'valid'],
    ['2026-11-25', '2026-11-26T00:00:00Z', 90, 'invalid'],
    ['2027-1-31', '2026-11-25T03:00:00Z', 90, 'invalid'],
    ['2027-01-31T00:00:00Z', '2026-11-25T03:00:00Z', 90, 'invalid'],
    // A leap day exists in a leap year only (a limit long enough to reach either).
    ['2028-02-29', '2026-11-25T03:00:00Z', 3650, 'valid'],
    ['2027-02-29', '2026-11-25T03:00:00Z', 3650, 'invalid'],
    // The limit: 90 days from 2026-11-25 is 2027-02-23.
    ['2027-02-23', '2026-11-25T03:00:00Z', 90, 'valid'],
    ['2027-02-24', '2026-11-25T03:00:00Z', 90, 'invalid'],
    ['2028-02-29', '2026-11-25T03:00:00Z', 90, 'invalid'],
    ['2099-12-31', '2026-11-25T03:00:00Z', 90, 'invalid'],
  ])('expires %s, now %s, at most %i days → %s', (expires, now, maxDays, status) => {
    expect(readExemption(tags('Open data', expires), new Date(now), maxDays).status).toBe(status);
  });

  test('an expiry beyond the limit says so', () => {
    expect(readExemption(tags('Open data', '2099-12-31'), NOW, 90)).toEqual({
      status: 'invalid',
      why: 'exemption ignored: 2099-12-31 is more than 90 days away, the longest an exemption may run',
    });
  });

  test('no exemption tags → none', () => {
    expect(readExemption([REGISTRY_TAG], NOW, 90)).toEqual({ status: 'none' });
  });
});

describe('policyWithoutPublicStatements', () => {
  test('keeps Version, Id and every statement that is not public, in order', () => {
    const rewrite = policyWithoutPublicStatements(
      policyOf(
        denyInsecureTransport(ROLL),
        publicStatement(ROLL, 'A'),
        auditorStatement(ROLL),
        publicStatement(ROLL, 'B'),
      ),
    );
    expect(rewrite).toMatchObject({ kind: 'replace', keptStatements: 2 });
    if (rewrite.kind !== 'replace') throw new Error('expected a replacement');
    expect(rewrite.removed.map((statement) => statement.sid)).toEqual(['A', 'B']);
    expect(JSON.parse(rewrite.policy)).toEqual({
      Version: '2012-10-17',
      Id: 'RegistryPolicy',
      Statement: [denyInsecureTransport(ROLL), auditorStatement(ROLL)],
    });
  });

  test('a single public statement written as an object → delete the policy', () => {
    expect(policyWithoutPublicStatements(JSON.stringify({ Statement: publicStatement(ROLL) })).kind).toBe(
      'delete',
    );
  });

  test('a condition limiting access to an organisation keeps the statement', () => {
    const organisationOnly = {
      ...publicStatement(ROLL),
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    };
    expect(policyWithoutPublicStatements(policyOf(organisationOnly)).kind).toBe('unchanged');
  });

  test('no policy, or a private one → unchanged', () => {
    expect(policyWithoutPublicStatements(undefined).kind).toBe('unchanged');
    expect(policyWithoutPublicStatements(policyOf(auditorStatement(ROLL))).kind).toBe('unchanged');
  });

  test('a policy that is not JSON cannot be taken apart', () => {
    expect(policyWithoutPublicStatements('{"Statement": [')).toMatchObject({ kind: 'impossible' });
  });
});

describe('aclWithoutPublicGrants', () => {
  test('removes AllUsers and AuthenticatedUsers grants, keeps the owner, LogDelivery and other accounts', () => {
    const otherAccount = {
      Grantee: { Type: 'CanonicalUser' as const, ID: 'a'.repeat(64) },
      Permission: 'READ' as const,
    };
    const rewrite = aclWithoutPublicGrants({
      Owner: OWNER,
      Grants: [
        OWNER_GRANT,
        { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ_ACP' },
        LOG_DELIVERY_GRANT,
        { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'FULL_CONTROL' },
        otherAccount,
      ],
    });
    expect(rewrite.changed).toBe(true);
    expect(rewrite.acl).toEqual({ Owner: OWNER, Grants: [OWNER_GRANT, LOG_DELIVERY_GRANT, otherAccount] });
    expect(rewrite.removed.map((grant) => `${grant.grantee}:${grant.permission}`)).toEqual([
      'AllUsers:READ_ACP',
      'AuthenticatedUsers:FULL_CONTROL',
    ]);
  });

  test('a grant it cannot read is kept, never removed blind', () => {
    const unreadableGrant = { Permission: 'READ' as const };
    const rewrite = aclWithoutPublicGrants({
      Owner: OWNER,
      Grants: [OWNER_GRANT, unreadableGrant, PUBLIC_READ_GRANT],
    });
    expect(rewrite.acl.Grants).toEqual([OWNER_GRANT, unreadableGrant]);
    expect(rewrite.removed).toHaveLength(1);
  });

  test('a private ACL is unchanged', () => {
    expect(aclWithoutPublicGrants({ Owner: OWNER, Grants: [OWNER_GRANT] }).changed).toBe(false);
  });
});

describe('truncate', () => {
  test('leaves short text alone', () => {
    expect(truncate('Not public.', 256)).toBe('Not public.');
  });

  test('cuts to the limit, ending with an ellipsis', () => {
    const cut = truncate('a'.repeat(300), 256);
    expect(cut).toHaveLength(256);
    expect(cut.endsWith('a…')).toBe(true);
  });

  test('never splits a surrogate pair', () => {
    const cut = truncate(`${'a'.repeat(254)}🔓🔓`, 256);
    expect(cut).toBe(`${'a'.repeat(254)}…`);
  });
});

describe('EvaluationBatcher', () => {
  test('sends a batch as soon as 100 are queued, the rest on flush', async () => {
    const config = new ConfigServiceClient({ region: 'us-east-1' });
    const configMock = mockClient(config);
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    const batcher = new EvaluationBatcher(config, 'token', new RecordingLogger());
    for (let index = 0; index < 250; index += 1) {
      await batcher.add({
        ComplianceResourceType: 'AWS::S3::Bucket',
        ComplianceResourceId: `bucket-${index}`,
        ComplianceType: 'COMPLIANT',
        OrderingTimestamp: NOW,
      });
    }
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(2);
    expect(await batcher.flush()).toEqual({ sent: 250, rejected: [], failures: [] });
    expect(
      configMock.commandCalls(PutEvaluationsCommand).map((call) => call.args[0].input.Evaluations?.length),
    ).toEqual([100, 100, 50]);
  });
});

describe('readGuardSettings', () => {
  test('defaults to remediate; reads the evidence bucket, the topic and the region', () => {
    expect(
      readGuardSettings({
        EVIDENCE_BUCKET: ' evidence ',
        NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:t',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({
      mode: 'remediate',
      modeWarning: undefined,
      evidenceBucket: 'evidence',
      notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:t',
      region: 'eu-west-1',
      maxExemptionDays: 90,
      releasedRegistries: new Set(),
      incidentWindowMs: 15 * 60 * 1000,
      trustedAccountIds: [],
      securityHubFindings: false,
      warnings: [],
    });
  });

  test('empty values count as unset', () => {
    expect(readGuardSettings({ EVIDENCE_BUCKET: '', NOTIFY_TOPIC_ARN: '  ' })).toMatchObject({
      evidenceBucket: undefined,
      notifyTopicArn: undefined,
    });
  });
});
