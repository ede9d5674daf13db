/**
 * Second adversarial round on the drift guard: the held INTERRUPTED notice, settleIncident, closing an
 * unreadable bucket, the incident claim's reopen detection, and the sweep cursor.
 *
 * Failing tests here are breaks; passing ones document attacks that were resisted. Everything runs on the
 * in-memory FakeAccount of ./support; helpers the fake lacks (a hanging call, a call-counting hook, a
 * Lambda context) are built locally, and each re-implements only the one fake behaviour it replaces.
 */
import {
  DeleteObjectCommand,
  GetBucketTaggingCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { SWEEP_TIME_RESERVE_MS } from '../../lib/remediation/triggers/config-sweep';
import {
  ALL_ON,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  NOW,
  policyOf,
  publicStatement,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
  ALL_OFF as OPEN_BPA,
  MINUTE,
  at,
  exemptionTags,
  lambdaContext,
  settle,
  notices,
} from './support';

/** Lets pending promise chains run until `done()` holds (or gives up). */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !done(); turn += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!done()) throw new Error('the condition never held');
}

/** Writes that change anything: S3 and S3 Control puts and deletes. */
function writes(account: FakeAccount): string[] {
  return account.operations().filter((name) => /^(s3control:)?(Put|Delete)/.test(name));
}

/** The fake's GetBucketTagging, with `before(call number, bucket)` run first. */
function hookTagging(account: FakeAccount, before: (call: number, bucket: string) => void): void {
  const calls = new Map<string, number>();
  account.s3Mock.on(GetBucketTaggingCommand).callsFake((input: { Bucket: string }) => {
    const call = (calls.get(input.Bucket) ?? 0) + 1;
    calls.set(input.Bucket, call);
    before(call, input.Bucket);
    const bucket = account.buckets.get(input.Bucket);
    if (bucket === undefined) throw s3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
    if (bucket.tags === undefined || bucket.tags.length === 0)
      throw s3Error('NoSuchTagSet', 'The TagSet does not exist', 404);
    return { TagSet: bucket.tags };
  });
}

// ---------------------------------------------------------------------------------------------------------
// settleIncident: the state "left behind" is whatever the re-read sees, not what the guard left.
// ---------------------------------------------------------------------------------------------------------

describe('settleIncident claims states it did not produce', () => {
  test('an attacker who reopens the registry differently right after the guard closed it is paged, and the new public statement is kept in evidence', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: { ...OPEN_BPA },
    });
    // The attacker's automation reverts every close at once, this time with a public statement too; its
    // write lands between the guard's last change and the guard's settling read (the second tag read).
    hookTagging(account, (call, bucket) => {
      if (bucket !== 'roll' || call !== 2) return;
      const roll = account.buckets.get('roll')!;
      roll.blockPublicAccess = { ...OPEN_BPA };
      roll.policy = policyOf(publicStatement('roll', 'AttackerRead'));
    });
    await account.handler(
      {},
      { now: () => NOW },
    )(cloudTrailBucketEvent('PutBucketPublicAccessBlock', 'roll'));
    expect(account.notices()).toHaveLength(1);
    // The attacker's own CloudTrail event for its change arrives a minute later.
    const later = await account.handler(
      {},
      { now: () => at(MINUTE) },
    )(cloudTrailBucketEvent('PutBucketPolicy', 'roll'));
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    // A registry was reopened with a new public statement: that is news, not a duplicate of the first drift.
    expect(later.buckets[0].incident?.role).not.toBe('duplicate');
    expect(account.notices()).toHaveLength(2);
    // And the statement the guard deleted is kept somewhere (nothing lost).
    const kept = [...account.evidence().values()].some((record) =>
      JSON.stringify(record).includes('AttackerRead'),
    );
    expect(kept).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Closing a bucket the guard could not read whole.
// ---------------------------------------------------------------------------------------------------------

describe('closing an unreadable bucket', () => {
  test('an invocation that stops while closing an unreadable bucket still leaves a notice for on-call (as the readable path does)', async () => {
    const account = new FakeAccount().addBucket('site', {
      tags: [{ Key: 'team', Value: 'web' }],
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    account.failAlways('GetBucketPolicy', 'site', s3Error('AccessDenied', 'Access Denied', 403));
    // PutPublicAccessBlock takes effect, and then the invocation never returns (Lambda times it out).
    let stopped = false;
    account.s3Mock.on(PutPublicAccessBlockCommand).callsFake((input) => {
      account.buckets.get(input.Bucket)!.blockPublicAccess = { ...input.PublicAccessBlockConfiguration };
      if (input.Bucket === 'site' && !stopped) {
        stopped = true;
        return new Promise(() => undefined);
      }
      return {};
    });
    void account.handler({}, { now: () => NOW })(cloudTrailBucketEvent('PutBucketPolicy', 'site'));
    await until(() => stopped);
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
    // Lambda's retry and later events; the readable path's held notice would have gone out by 6 minutes.
    await settle(account.handler({}, { now: () => at(MINUTE) })(configChangeEvent('site')));
    await settle(
      account.handler({}, { now: () => at(8 * MINUTE) })(cloudTrailBucketEvent('PutBucketTagging', 'site')),
    );
    // The guard changed the bucket's Block Public Access and the bucket cannot be verified: on-call must
    // hear of it before the 15-minute incident window runs out.
    expect(notices(account, /site/).length).toBeGreaterThan(0);
  });

  test('a valid exemption is respected when the guard cannot read the policy: Block Public Access is not turned on', async () => {
    const account = new FakeAccount().addBucket('site', {
      tags: exemptionTags('Public website, SEC-42', '2026-12-15'),
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    account.failAlways('GetBucketPolicy', 'site', s3Error('AccessDenied', 'Access Denied', 403));
    await settle(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'site')));
    await settle(account.handler({}, { now: () => at(MINUTE) })(scheduledEvent()));
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(OPEN_BPA);
    expect(account.operations()).not.toContain('PutPublicAccessBlock');
  });

  test('a throttled read (not a refusal) never leads to closing an unreadable bucket', async () => {
    const account = new FakeAccount().addBucket('site', {
      tags: [],
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    account.failAlways('GetBucketPolicy', 'site', s3Error('AccessDenied', 'Access Denied', 403));
    account.failAlways('GetBucketAcl', 'site', s3Error('SlowDown', 'Please reduce your request rate', 503));
    await settle(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'site')));
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(OPEN_BPA);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The held INTERRUPTED notice: one page, never two, never none.
// ---------------------------------------------------------------------------------------------------------

describe('held notices', () => {
  test('a duplicate whose release of its held notice fails once does not page INTERRUPTED after the owner reported', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: { ...OPEN_BPA },
    });
    // A duplicate's release of its held (INTERRUPTED) record: the record is marked released, then the
    // DeleteObject fails once, a 500 from the evidence bucket. Deleting a record the real notice replaced works.
    let failedRelease = false;
    account.s3Mock.on(DeleteObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
      const name = `${input.Bucket}/${input.Key}`;
      const body = account.objects.get(name);
      if (!failedRelease && body !== undefined && body.includes('"released":true')) {
        failedRelease = true;
        throw s3Error('InternalError', 'We encountered an internal error', 500);
      }
      account.objects.delete(name);
      return {};
    });
    const handler = account.handler({}, { now: () => NOW });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_unused, index) =>
        settle(handler(cloudTrailBucketEvent(index % 2 === 0 ? 'PutBucketPolicy' : 'PutBucketAcl', 'roll'))),
      ),
    );
    expect(failedRelease).toBe(true);
    expect(
      results.some(
        (result) => !(result instanceof Error) && result.buckets[0].incident?.role === 'duplicate',
      ),
    ).toBe(true);
    expect(account.notices()).toHaveLength(1);
    // Any invocation after the hold delivers what was left in _pending-notices/.
    await settle(account.handler({}, { now: () => at(10 * MINUTE) })(scheduledEvent()));
    // The owner reported everything; nobody stopped. An "INTERRUPTED, check the bucket now" page is false.
    expect(notices(account, /INTERRUPTED/)).toEqual([]);
    expect(account.notices()).toHaveLength(1);
  });

  test('twenty simultaneous events and a later sweep: no held record is left behind, one page in all', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement('roll')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    const handler = account.handler({}, { now: () => NOW });
    await Promise.all(
      Array.from({ length: 20 }, (_unused, index) =>
        settle(
          handler(index === 0 ? configChangeEvent('roll') : cloudTrailBucketEvent('PutBucketAcl', 'roll')),
        ),
      ),
    );
    expect(account.records('_pending-notices/').size).toBe(0);
    await settle(account.handler({}, { now: () => at(20 * MINUTE) })(scheduledEvent()));
    expect(account.notices()).toHaveLength(1);
    expect(notices(account, /INTERRUPTED/)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Incidents: exemptions are paged once per state, forever.
// ---------------------------------------------------------------------------------------------------------

describe('exemption incidents', () => {
  test('an exemption removed (the guard closes the bucket) and then added back with the bucket reopened pages again', async () => {
    const tags = exemptionTags('Open data, SEC-1234', '2026-12-15');
    const account = new FakeAccount().addBucket('site', {
      tags: [...tags],
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    await account.handler({}, { now: () => NOW })(cloudTrailBucketEvent('PutBucketTagging', 'site'));
    expect(notices(account, /EXEMPTION IN USE/)).toHaveLength(1);
    // The exemption tags are removed: a plain public bucket, closed and paged.
    account.buckets.get('site')!.tags = [];
    await account.handler(
      {},
      { now: () => at(MINUTE) },
    )(cloudTrailBucketEvent('DeleteBucketTagging', 'site'));
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.notices()).toHaveLength(2);
    // Hours later someone puts the very same exemption tags back and opens the bucket again.
    account.buckets.get('site')!.tags = [...tags];
    account.buckets.get('site')!.blockPublicAccess = { ...OPEN_BPA };
    await account.handler(
      {},
      { now: () => at(5 * 60 * MINUTE) },
    )(cloudTrailBucketEvent('PutBucketTagging', 'site'));
    // Issue 13: adding an exemption pages on-call.
    expect(notices(account, /EXEMPTION IN USE/)).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Report mode writes nothing, whatever the path.
// ---------------------------------------------------------------------------------------------------------

describe('report mode', () => {
  test('drifted registry, unreadable bucket, exempt open bucket and a sweep cut short: nothing is written', async () => {
    const account = new FakeAccount()
      .addBucket('roll', { tags: [REGISTRY_TAG], policy: policyOf(publicStatement('roll')) })
      .addBucket('locked', { tags: [], blockPublicAccess: { ...OPEN_BPA } })
      .addBucket('site', {
        tags: exemptionTags('Open data', '2026-12-15'),
        policy: policyOf(publicStatement('site')),
        blockPublicAccess: { ...OPEN_BPA },
      });
    for (let index = 0; index < 10; index += 1)
      account.addBucket(`b-${index}`, { blockPublicAccess: ALL_ON });
    account.failAlways('GetBucketPolicy', 'locked', s3Error('AccessDenied', 'Access Denied', 403));
    const handler = account.handler({ GUARD_MODE: 'report' });
    for (const bucket of ['roll', 'locked', 'site']) {
      await settle(handler(cloudTrailBucketEvent('PutBucketPolicy', bucket)));
      await settle(handler(configChangeEvent(bucket)));
    }
    let calls = 0;
    await settle(
      handler(
        scheduledEvent(),
        lambdaContext(() => (calls++ < 5 ? 120_000 : SWEEP_TIME_RESERVE_MS - 1)),
      ),
    );
    expect(writes(account)).toEqual([]);
    expect(account.notices().length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The sweep cursor.
// ---------------------------------------------------------------------------------------------------------

describe('sweep cursor', () => {
  test('the cursor bucket deleted and a bucket added before it between attempts: every bucket is still judged', async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 12; index += 1)
      account.addBucket(`m-${String(index).padStart(2, '0')}`, { blockPublicAccess: ALL_ON });
    const handler = account.handler();
    const attempt = async (slots: number): Promise<void> => {
      let calls = 0;
      await settle(
        handler(
          scheduledEvent(),
          lambdaContext(() => (calls++ < slots ? 120_000 : SWEEP_TIME_RESERVE_MS - 1)),
        ),
      );
    };
    await attempt(5);
    const cursor = account.records('_sweep/').get('_sweep/cursor.json') as { startAt: string };
    expect(cursor.startAt).toBe('m-05');
    account.buckets.delete('m-05');
    account.addBucket('a-first', { blockPublicAccess: ALL_ON });
    account.addBucket('zz-last', { policy: policyOf(publicStatement('zz-last')) });
    await attempt(5);
    await attempt(5);
    await attempt(5);
    const judged = new Set(account.evaluations().map((evaluation) => evaluation.ComplianceResourceId));
    for (const bucket of account.buckets.keys()) {
      if (bucket !== EVIDENCE_BUCKET) expect(judged).toContain(bucket);
    }
    expect(account.buckets.get('zz-last')?.blockPublicAccess).toEqual(ALL_ON);
  });
});
