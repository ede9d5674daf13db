import { judgeAcl, judgeCannedAcl } from '../../lib/exposure/acl';
import { judgeBlockPublicAccess } from '../../lib/exposure/block-public-access';
import { judgeBucketExposure } from '../../lib/exposure/bucket-exposure';
import { parseCidr } from '../../lib/exposure/ip-ranges';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

describe('judgeCannedAcl', () => {
  test.each<[string, boolean]>([
    ['PublicRead', true],
    ['PublicReadWrite', true],
    ['AuthenticatedRead', true],
    ['public-read', true],
    ['public-read-write', true],
    ['authenticated-read', true],
    ['Private', false],
    ['private', false],
    ['LogDeliveryWrite', false],
    ['log-delivery-write', false],
    ['BucketOwnerRead', false],
    ['BucketOwnerFullControl', false],
    ['AwsExecRead', false],
    ['aws-exec-read', false],
  ])('%s → public: %s', (acl, expected) => {
    expect(judgeCannedAcl(acl).isPublic).toBe(expected);
  });

  test('names the group and permission a canned ACL grants', () => {
    expect(judgeCannedAcl('PublicReadWrite').publicGrants.map((g) => `${g.grantee}:${g.permission}`)).toEqual(
      ['AllUsers:READ', 'AllUsers:WRITE'],
    );
  });
});

describe('judgeAcl', () => {
  const owner = { ID: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' };

  test('GetBucketAcl output granting AllUsers READ is public', () => {
    const acl = {
      Owner: owner,
      Grants: [
        { Grantee: { ...owner, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
      ],
    };
    expect(judgeAcl(acl).publicGrants).toEqual([
      { grantee: 'AllUsers', permission: 'READ', source: 'grant' },
    ]);
  });

  test('AuthenticatedUsers is public: any AWS account is the public', () => {
    const acl = {
      Grants: [{ Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'WRITE_ACP' }],
    };
    expect(judgeAcl(acl).isPublic).toBe(true);
  });

  test('LogDelivery is not public', () => {
    const acl = { Grants: [{ Grantee: { Type: 'Group', URI: LOG_DELIVERY }, Permission: 'WRITE' }] };
    expect(judgeAcl(acl).isPublic).toBe(false);
  });

  test("AWS Config's AccessControlList with short grantee names, as a JSON string", () => {
    const configAcl = JSON.stringify({
      grantSet: null,
      grantList: [
        { grantee: { id: owner.ID, displayName: null }, permission: 'FullControl' },
        { grantee: 'AllUsers', permission: 'Read' },
      ],
      owner: { id: owner.ID, displayName: null },
      isRequesterCharged: false,
    });
    expect(judgeAcl(configAcl).publicGrants).toEqual([
      { grantee: 'AllUsers', permission: 'Read', source: 'grant' },
    ]);
  });

  test("AWS Config's ACL encoded twice is still read", () => {
    const twice = JSON.stringify(
      JSON.stringify({ grantList: [{ grantee: 'AuthenticatedUsers', permission: 'Read' }] }),
    );
    expect(judgeAcl(twice).isPublic).toBe(true);
  });

  test('a canned ACL name is read as a canned ACL', () => {
    expect(judgeAcl('public-read').isPublic).toBe(true);
    expect(judgeAcl('private').isPublic).toBe(false);
  });

  test('an owner-only ACL and no ACL at all are not public', () => {
    expect(judgeAcl({ Grants: [{ Grantee: owner, Permission: 'FULL_CONTROL' }] }).isPublic).toBe(false);
    expect(judgeAcl({ Owner: owner }).isPublic).toBe(false);
    expect(judgeAcl(null).isPublic).toBe(false);
    expect(judgeAcl(undefined).isPublic).toBe(false);
  });
});

describe('judgeBlockPublicAccess', () => {
  test('absent configuration: all four settings off', () => {
    expect(judgeBlockPublicAccess(undefined).settingsOff).toEqual([
      'BlockPublicAcls',
      'IgnorePublicAcls',
      'BlockPublicPolicy',
      'RestrictPublicBuckets',
    ]);
  });

  test('CloudFormation "true" strings count as on; absent settings are off', () => {
    const verdict = judgeBlockPublicAccess({
      BlockPublicAcls: 'true',
      IgnorePublicAcls: 'TRUE',
      BlockPublicPolicy: true,
    });
    expect(verdict.settingsOff).toEqual(['RestrictPublicBuckets']);
    expect(verdict.allOn).toBe(false);
  });

  test('false and "false" are off', () => {
    const verdict = judgeBlockPublicAccess({
      BlockPublicAcls: false,
      IgnorePublicAcls: 'false',
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(verdict.settingsOff).toEqual(['BlockPublicAcls', 'IgnorePublicAcls']);
  });

  test("AWS Config's camelCase flags are read", () => {
    const verdict = judgeBlockPublicAccess({
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: true,
      restrictPublicBuckets: true,
    });
    expect(verdict.allOn).toBe(true);
  });

  test('an intrinsic is not proven on', () => {
    expect(judgeBlockPublicAccess({ BlockPublicAcls: { Ref: 'Flag' } }).settingsOff).toContain(
      'BlockPublicAcls',
    );
  });
});

describe('judgeBucketExposure', () => {
  const publicPolicy = {
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
  };
  const publicAcl = { Grants: [{ Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }] };

  test('a public policy with RestrictPublicBuckets off is public', () => {
    const exposure = judgeBucketExposure({ policy: publicPolicy });
    expect(exposure.isPublic).toBe(true);
    expect(exposure.reasons[0]).toMatch(/^bucket policy statement 1: Principal "\*" is everyone/);
  });

  test('RestrictPublicBuckets at bucket level neutralises a public policy, and the reason names the bucket level', () => {
    const exposure = judgeBucketExposure({
      policy: publicPolicy,
      bucketBlockPublicAccess: { RestrictPublicBuckets: true },
    });
    expect(exposure).toMatchObject({
      isPublic: false,
      hasPublicGrant: true,
      policyNeutralised: true,
      policyNeutralisedBy: 'bucket',
    });
    expect(exposure.reasons[0]).toMatch(/ \(neutralised by bucket-level RestrictPublicBuckets\)$/);
  });

  test('RestrictPublicBuckets at account level only neutralises a public policy, and the reason names the account level', () => {
    const exposure = judgeBucketExposure({
      policy: publicPolicy,
      accountBlockPublicAccess: { RestrictPublicBuckets: true },
    });
    expect(exposure).toMatchObject({
      isPublic: false,
      policyNeutralised: true,
      policyNeutralisedBy: 'account',
    });
    expect(exposure.reasons[0]).toMatch(/ \(neutralised by account-level RestrictPublicBuckets\)$/);
  });

  test('set at both levels, the bucket level is named: it holds whatever the account does', () => {
    const exposure = judgeBucketExposure({
      policy: publicPolicy,
      acl: publicAcl,
      bucketBlockPublicAccess: { RestrictPublicBuckets: true },
      accountBlockPublicAccess: { RestrictPublicBuckets: true, IgnorePublicAcls: true },
    });
    expect(exposure).toMatchObject({ policyNeutralisedBy: 'bucket', aclNeutralisedBy: 'account' });
    expect(exposure.reasons).toEqual([
      'bucket policy statement 1: Principal "*" is everyone, and no condition limits it to fixed values (neutralised by bucket-level RestrictPublicBuckets)',
      'ACL grants READ to AllUsers (neutralised by account-level IgnorePublicAcls)',
    ]);
  });

  test('nothing neutralised: neither level is named', () => {
    const exposure = judgeBucketExposure({ policy: publicPolicy, acl: publicAcl });
    expect(exposure.policyNeutralisedBy).toBeUndefined();
    expect(exposure.aclNeutralisedBy).toBeUndefined();
    expect(exposure.reasons.join('\n')).not.toContain('neutralised');
  });

  test('a setting neutralises only a grant that exists', () => {
    const exposure = judgeBucketExposure({
      bucketBlockPublicAccess: { RestrictPublicBuckets: true, IgnorePublicAcls: true },
    });
    expect(exposure).toMatchObject({ policyNeutralised: false, aclNeutralised: false });
    expect(exposure.policyNeutralisedBy).toBeUndefined();
  });

  test('IgnorePublicAcls neutralises a public ACL but not a public policy', () => {
    expect(
      judgeBucketExposure({ acl: publicAcl, bucketBlockPublicAccess: { IgnorePublicAcls: true } }).isPublic,
    ).toBe(false);
    expect(
      judgeBucketExposure({
        acl: publicAcl,
        policy: publicPolicy,
        bucketBlockPublicAccess: { IgnorePublicAcls: true },
      }).isPublic,
    ).toBe(true);
  });

  test('BlockPublicPolicy alone does not neutralise a policy already in place', () => {
    expect(
      judgeBucketExposure({ policy: publicPolicy, bucketBlockPublicAccess: { BlockPublicPolicy: true } })
        .isPublic,
    ).toBe(true);
  });
});

describe('parseCidr', () => {
  test.each<[string, number | undefined]>([
    ['10.0.0.0/8', 8],
    ['203.0.113.7', 32],
    ['2001:db8::/32', 32],
    ['::1', 128],
    ['::ffff:192.0.2.1/128', 128],
    ['1.2.3.4/33', undefined],
    ['1.2.3/24', undefined],
    ['2001:db8::1::/64', undefined],
    ['nonsense', undefined],
  ])('%s → prefix %s', (text, prefix) => {
    expect(parseCidr(text)?.prefixLength).toBe(prefix);
  });
});
