/**
 * What a restore would change and what of it is public: pure functions over a record and a live state, with
 * S3's own shapes (GetBucketAcl grants, GetPublicAccessBlock configurations, policy text).
 */
import { Grant } from '@aws-sdk/client-s3';
import {
  canonicalJson,
  loosensBlockPublicAccess,
  planRestore,
  publicParts,
} from '../../lib/cli/restore-diff';
import { BucketRecord, VerifiedEvidence } from '../../lib/cli/restore-evidence';
import { LiveState } from '../../lib/cli/restore-live';
import { lineDiff, renderRestoreJson, renderRestoreText } from '../../lib/cli/restore-report';

const OWNER_ID = '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a';
const OWNER_GRANT: Grant = { Grantee: { Type: 'CanonicalUser', ID: OWNER_ID }, Permission: 'FULL_CONTROL' };
const PUBLIC_READ: Grant = {
  Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
  Permission: 'READ',
};
const LOG_WRITE: Grant = {
  Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/s3/LogDelivery' },
  Permission: 'WRITE',
};
const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};
const PUBLIC_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::open-data/*"}]}';

function record(overrides: Partial<BucketRecord> = {}): BucketRecord {
  return {
    kind: 'bucket',
    evidenceId: '1a2b3c4d',
    capturedAt: '2026-11-25T02:49:00.000Z',
    bucket: 'open-data',
    account: '123456789012',
    policy: null,
    acl: { Owner: { ID: OWNER_ID }, Grants: [OWNER_GRANT] },
    blockPublicAccess: ALL_ON,
    ...overrides,
  };
}

function live(overrides: Partial<LiveState['bucket']> = {}, aclsDisabled = false): LiveState {
  return {
    bucket: {
      bucket: 'open-data',
      tags: [],
      acl: { Owner: { ID: OWNER_ID }, Grants: [OWNER_GRANT] },
      blockPublicAccess: ALL_ON,
      ...overrides,
    },
    aclsDisabled,
    registry: { isRegistry: false, reasons: [] },
  };
}

describe('planRestore', () => {
  test('nothing differs: no change', () => {
    expect(planRestore(record(), live())).toEqual({ changes: [], leftAlone: [] });
  });

  test('a policy with the same statements in another key order and spacing is the same policy', () => {
    const reordered = JSON.stringify(
      {
        Statement: [
          {
            Resource: 'arn:aws:s3:::open-data/*',
            Action: 's3:GetObject',
            Principal: '*',
            Effect: 'Allow',
            Sid: 'PublicRead',
          },
        ],
        Version: '2012-10-17',
      },
      null,
      4,
    );
    expect(canonicalJson(reordered)).toBe(canonicalJson(PUBLIC_POLICY));
    expect(planRestore(record({ policy: PUBLIC_POLICY }), live({ policy: reordered })).changes).toEqual([]);
  });

  test('grants in another order are the same ACL; one grant more is a change', () => {
    expect(
      planRestore(
        record({ acl: { Grants: [LOG_WRITE, OWNER_GRANT] } }),
        live({ acl: { Grants: [OWNER_GRANT, LOG_WRITE] } }),
      ).changes,
    ).toEqual([]);
    const plan = planRestore(
      record({ acl: { Owner: { ID: OWNER_ID }, Grants: [OWNER_GRANT, PUBLIC_READ] } }),
      live(),
    );
    expect(plan.changes.map((change) => change.setting)).toEqual(['acl']);
  });

  test('"no configuration" and "all four off" are the same Block Public Access', () => {
    const allOff = {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    expect(
      planRestore(record({ blockPublicAccess: null }), live({ blockPublicAccess: allOff })).changes,
    ).toEqual([]);
  });

  test('the record had no policy and the bucket has one now: left alone, never deleted', () => {
    const plan = planRestore(record({ policy: null }), live({ policy: PUBLIC_POLICY }));
    expect(plan.changes).toEqual([]);
    expect(plan.leftAlone).toEqual([
      expect.stringMatching(/^bucket policy: the record had none .*never deletes a policy/),
    ]);
  });

  test('ACLs disabled by BucketOwnerEnforced: the ACL is left alone, with why', () => {
    const plan = planRestore(record({ acl: { Grants: [OWNER_GRANT, PUBLIC_READ] } }), live({}, true));
    expect(plan.changes).toEqual([]);
    expect(plan.leftAlone).toEqual([
      expect.stringMatching(/ACLs are disabled on the bucket \(object ownership BucketOwnerEnforced\)/),
    ]);
  });

  test('a partial record changes only Block Public Access, whatever the policy and ACL are now', () => {
    const plan = planRestore(
      record({ policy: undefined, acl: undefined, blockPublicAccess: null }),
      live({ policy: PUBLIC_POLICY, acl: { Grants: [] } }),
    );
    expect(plan.changes.map((change) => change.setting)).toEqual(['block-public-access']);
  });
});

describe('publicParts: the public judgement of what would be put back', () => {
  test('names each public statement, each public grant and each Block Public Access setting turned off', () => {
    const state = live({ blockPublicAccess: ALL_ON });
    const plan = planRestore(
      record({
        policy: PUBLIC_POLICY,
        acl: { Owner: { ID: OWNER_ID }, Grants: [OWNER_GRANT, PUBLIC_READ] },
        blockPublicAccess: { ...ALL_ON, RestrictPublicBuckets: false },
      }),
      state,
    );
    expect(publicParts(plan, state)).toEqual([
      'bucket Block Public Access would turn off RestrictPublicBuckets',
      expect.stringMatching(/^bucket policy statement 1 \(Sid "PublicRead"\): Principal "\*" is everyone/),
      'ACL grants READ to AllUsers',
    ]);
    expect(loosensBlockPublicAccess(plan.changes[0])).toBe(true);
  });

  test('a policy confined to one account and a log-delivery grant are not public', () => {
    const confined = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:role/Auditors' },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::open-data/*',
        },
      ],
    });
    const state = live();
    const plan = planRestore(
      record({ policy: confined, acl: { Owner: { ID: OWNER_ID }, Grants: [OWNER_GRANT, LOG_WRITE] } }),
      state,
    );
    expect(plan.changes).toHaveLength(2);
    expect(publicParts(plan, state)).toEqual([]);
  });

  test('turning settings on only is not a loosening: it is written last', () => {
    const plan = planRestore(record({ blockPublicAccess: ALL_ON }), live({ blockPublicAccess: undefined }));
    expect(loosensBlockPublicAccess(plan.changes[0])).toBe(false);
    expect(publicParts(plan, live({ blockPublicAccess: undefined }))).toEqual([]);
  });
});

describe('lineDiff', () => {
  test('keeps the common head and tail as context and shows the differing middle as - then +', () => {
    expect(lineDiff(['{', '  "a": 1', '}'], ['{', '  "a": 1', '  "b": 2', '}'])).toEqual([
      '    {',
      '      "a": 1',
      '  +   "b": 2',
      '    }',
    ]);
    expect(lineDiff(['x', 'y'], ['z'])).toEqual(['  - x', '  - y', '  + z']);
    expect(lineDiff(['same'], ['same'])).toEqual(['    same']);
  });

  test('is linear: two 100,000-line policies differing in the middle take milliseconds', () => {
    const left = Array.from({ length: 100_000 }, (_, index) => `line ${index}`);
    const right = [...left];
    right[50_000] = 'changed';
    const started = Date.now();
    const diff = lineDiff(left, right);
    expect(Date.now() - started).toBeLessThan(500);
    expect(diff.filter((line) => /^ {2}[-+]/.test(line))).toEqual(['  - line 50000', '  + changed']);
  });
});

describe('the report', () => {
  const evidence = (overrides: Partial<BucketRecord>): VerifiedEvidence => ({
    location: {
      bucket: 'guard-evidence',
      key: 'open-data/x.json',
      uri: 's3://guard-evidence/open-data/x.json',
    },
    versionId: 'v1',
    sha256: 'ab'.repeat(32),
    checks: ['SHA-256 matches --sha256'],
    record: record(overrides),
  });

  test('control characters from the record are shown escaped, never sent to the terminal', () => {
    const hostile = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: '\u001b[2J', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' }],
    });
    const state = live();
    const plan = planRestore(record({ policy: hostile }), state);
    const text = renderRestoreText({
      mode: 'dry-run',
      evidence: evidence({ policy: hostile }),
      registry: state.registry,
      plan,
      applied: [],
      warnings: [],
    });
    expect(text).not.toContain('\u001b');
    expect(text).toContain('\\u001b[2J');
  });

  test('JSON output is one valid document whatever the record holds', () => {
    const state = live();
    const plan = planRestore(record({ policy: PUBLIC_POLICY }), state);
    const json = JSON.parse(
      renderRestoreJson({
        mode: 'dry-run',
        evidence: evidence({ policy: PUBLIC_POLICY }),
        registry: state.registry,
        plan,
        applied: [],
        warnings: [],
      }),
    ) as { outcome: string; changes: { setting: string; restored: string }[] };
    expect(json.outcome).toBe('would-restore');
    expect(json.changes).toEqual([{ setting: 'policy', live: null, restored: PUBLIC_POLICY }]);
  });
});
