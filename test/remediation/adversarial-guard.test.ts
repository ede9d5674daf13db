/**
 * Adversarial and bad-day cases for the drift guard (issue 13's promises: closed, told, nothing lost).
 *
 * Each `describe` block is one attack or one bad day, found by an adversarial review of the reworked guard.
 * Every test here failed against the code as first written for issue 13, or documents an attack that was
 * resisted from the start; all must keep passing.
 *
 * Everything runs on the in-memory FakeAccount of ./support; helpers shared with the
 * other guard tests live there; seeding records and a paginated listing are built here.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { incidentKey } from '../../lib/remediation/act/incident-claim';
import { stateFingerprint } from '../../lib/remediation/decide/incident';
import { DeliveryError, StillPublicError } from '../../lib/remediation/errors';
import { isCloudFormationResponseUrl } from '../../lib/remediation/events';
import { registryLedgerKey } from '../../lib/remediation/read/registry-ledger';
import { SWEEP_TIME_RESERVE_MS } from '../../lib/remediation/triggers/config-sweep';
import {
  ALL_ON,
  auditorStatement,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  NOW,
  OWNER,
  OWNER_GRANT,
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

/** Writes a record straight into the fake evidence bucket, as an earlier invocation (or anyone) left it. */
function seed(account: FakeAccount, key: string, body: unknown): void {
  account.objects.set(
    `${EVIDENCE_BUCKET}/${key}`,
    typeof body === 'string' ? body : `${JSON.stringify(body)}\n`,
  );
}

/** The registry ledger's memory of a bucket, as the guard writes it the first time it sees the tag. */
function seedLedger(account: FakeAccount, bucket: string): void {
  seed(account, registryLedgerKey(bucket), {
    schema: 'registry-guard/registry/v1',
    bucket,
    since: '2026-01-01T00:00:00.000Z',
    seenBy: 'CloudTrail PutBucketTagging',
  });
}

function pendingKeys(account: FakeAccount): string[] {
  return [...account.objects.keys()].filter((name) =>
    name.startsWith(`${EVIDENCE_BUCKET}/_pending-notices/`),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Told, at least once, but not twenty times: the pending-notice path under concurrency and poison records.
// ---------------------------------------------------------------------------------------------------------

describe('pending notices under concurrency and poison', () => {
  /** A registry drift whose first publish fails: one pending record is left in _pending-notices/. */
  async function leavePendingNotice(account: FakeAccount): Promise<void> {
    account.addBucket('roll', { tags: [REGISTRY_TAG], blockPublicAccess: OPEN_BPA });
    account.snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabled' }));
    await expect(
      account.handler({}, { now: () => NOW })(cloudTrailBucketEvent('PutBucketPolicy', 'roll')),
    ).rejects.toBeInstanceOf(DeliveryError);
    expect(pendingKeys(account).filter((key) => !key.includes('-bad'))).toHaveLength(1);
    account.snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  }

  test('twenty concurrent invocations a minute later deliver a pending notice once (a lease)', async () => {
    const account = new FakeAccount();
    await leavePendingNotice(account);
    account.addBucket('quiet', { blockPublicAccess: ALL_ON });
    // A burst of unrelated events (a Config change plus CloudTrail events, Lambda's own retry...) arrives
    // once the record is older than the 30-second "leave it to its writer" age.
    const handler = account.handler({}, { now: () => at(MINUTE) });
    await Promise.all(
      Array.from({ length: 20 }, (_unused, index) =>
        settle(
          handler(cloudTrailBucketEvent(index % 2 === 0 ? 'PutBucketTagging' : 'PutBucketAcl', 'quiet')),
        ),
      ),
    );
    const late = notices(account, /Delivered late/);
    // At least once, yes; but one drift must not page on-call twenty times.
    expect(late.length).toBe(1);
  });

  test('fifty unreadable pending records that sort first are moved aside; the real pending notice behind them is delivered', async () => {
    const account = new FakeAccount();
    // Records from an older schema, a bug, or a truncated copy: each fails to parse, and none is removed.
    for (let index = 0; index < 50; index += 1) {
      seed(
        account,
        `_pending-notices/2026-01-01T00:00:00.000Z-bad${String(index).padStart(3, '0')}.json`,
        '{"schema":"registry-guard/pending-notice/v0"',
      );
    }
    await leavePendingNotice(account);
    account.addBucket('quiet', { blockPublicAccess: ALL_ON });
    for (let hour = 1; hour <= 5; hour += 1) {
      await settle(
        account.handler(
          {},
          { now: () => at(hour * 60 * MINUTE) },
        )(cloudTrailBucketEvent('PutBucketTagging', 'quiet')),
      );
    }
    // The real notice (a registry bucket was changed) must reach on-call eventually.
    expect(notices(account, /Delivered late/)).toHaveLength(1);
  });

  test('one malformed pending record is reported once and moved aside, not a failure of every later invocation', async () => {
    const account = new FakeAccount().addBucket('quiet', { blockPublicAccess: ALL_ON });
    seed(account, '_pending-notices/2026-11-25T02:00:00.000Z-broken.json', 'not json at all');
    // (The fake lists every object as written at NOW: run a minute later, past the 30-second age.)
    const handler = account.handler({}, { now: () => at(MINUTE) });
    const first = await settle(handler(cloudTrailBucketEvent('PutBucketTagging', 'quiet')));
    // Reported loudly once: fine.
    expect(first).toBeInstanceOf(DeliveryError);
    expect(account.logger.errors().some((line) => /broken\.json/.test(line))).toBe(true);
    // But the record is never quarantined: every invocation of every kind now fails (DLQ and errors alarm
    // flood, Lambda retries every event twice), which hides real failures behind this one.
    const second = await settle(handler(cloudTrailBucketEvent('PutBucketTagging', 'quiet')));
    expect(second).not.toBeInstanceOf(Error);
  });

  test('a pending record is left to its writer while younger than 30 s (no double page)', async () => {
    const account = new FakeAccount();
    await leavePendingNotice(account);
    account.addBucket('quiet', { blockPublicAccess: ALL_ON });
    await account.handler({}, { now: () => at(10_000) })(cloudTrailBucketEvent('PutBucketTagging', 'quiet'));
    expect(notices(account, /Delivered late/)).toHaveLength(0);
    expect(pendingKeys(account)).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------------------
// One incident, one page; LOOP only when the bucket really reopens.
// ---------------------------------------------------------------------------------------------------------

describe('incidents: false reopenings and missed reopenings', () => {
  test('an unmarked registry (tag removed, nothing else open) is one page, never "Reopened" or LOOP on later events', async () => {
    const account = new FakeAccount().addBucket('roll', { tags: [], blockPublicAccess: ALL_ON });
    seedLedger(account, 'roll');
    let now = NOW;
    const handler = account.handler({}, { now: () => now });
    // Someone removed the classification tag; nothing reopened anything. Three ordinary events follow.
    for (const [minutes, event] of [
      [0, cloudTrailBucketEvent('DeleteBucketTagging', 'roll')],
      [1, configChangeEvent('roll')],
      [2, cloudTrailBucketEvent('PutBucketTagging', 'roll')],
    ] as const) {
      now = at(minutes * MINUTE);
      await handler(event);
    }
    const all = account.notices();
    expect(all[0].message).toMatch(/^REGISTRY UNMARKED/);
    // The guard cannot re-tag, so the bucket stays in this one state: the same incident, one page.
    expect(notices(account, /Reopened: the bucket was closed in this same state before/)).toEqual([]);
    expect(notices(account, /LOOP/)).toEqual([]);
    expect(all).toHaveLength(1);
  });

  test('a duplicate that closes the bucket marks the incident closed, so a real reopening pages', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    seedLedger(account, 'roll');
    let now = NOW;
    const handler = account.handler({}, { now: () => now });
    // The owner's PutPublicAccessBlock is throttled: it pages "FAILED" and leaves the incident open.
    account.failNext('PutPublicAccessBlock', 'roll', s3Error('SlowDown', 'slow down', 503));
    await handler(cloudTrailBucketEvent('PutBucketPublicAccessBlock', 'roll'));
    // A duplicate a minute later closes it.
    now = at(MINUTE);
    await handler(configChangeEvent('roll'));
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.notices()).toHaveLength(1);
    // The attacker reopens it, exactly as before.
    account.buckets.get('roll')!.blockPublicAccess = { ...OPEN_BPA };
    now = at(3 * MINUTE);
    await handler(cloudTrailBucketEvent('DeleteBucketPublicAccessBlock', 'roll'));
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    // Closed, but on-call never hears that someone reopened a registry, and no evidence of it exists.
    expect(notices(account, /Reopened/)).toHaveLength(1);
  });

  test('clock skew between invocations does not hide a real reopening (the bucket is read again, no clocks compared)', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    seedLedger(account, 'roll');
    // Invocation A runs on a host whose clock is 5 s ahead.
    await account.handler({}, { now: () => at(5_000) })(cloudTrailBucketEvent('PutBucketPolicy', 'roll'));
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    // Reopened one real second after A closed it; invocation B (correct clock) reads it 2 s after A.
    account.buckets.get('roll')!.blockPublicAccess = { ...OPEN_BPA };
    await account.handler(
      {},
      { now: () => at(2_000) },
    )(cloudTrailBucketEvent('DeleteBucketPublicAccessBlock', 'roll'));
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    expect(notices(account, /Reopened/)).toHaveLength(1);
  });

  test('an owner that died after claiming: duplicates close the bucket quietly, and the notice it held before claiming still reaches on-call', async () => {
    const account = new FakeAccount().addBucket('site', {
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    // The state as the guard reads it, the notice the owner held before it claimed, and its claim; then
    // Lambda timed it out (or its sandbox died) before the evidence write.
    const fingerprint = stateFingerprint({
      bucket: 'site',
      tags: [],
      policy: policyOf(publicStatement('site')),
      acl: { Owner: OWNER, Grants: [OWNER_GRANT] },
      blockPublicAccess: { ...OPEN_BPA },
    });
    seed(account, `_pending-notices/${at(-MINUTE).toISOString()}-dead0001.json`, {
      schema: 'registry-guard/pending-notice/v1',
      firstAttemptAt: at(-MINUTE).toISOString(),
      trigger: 'CloudTrail PutBucketPolicy (timed out)',
      notice: {
        subject: 'registry-guard: INTERRUPTED while closing bucket site',
        message: 'INTERRUPTED: ...',
        attributes: {},
      },
      holdUntil: at(5 * MINUTE).toISOString(),
      interrupted: true,
    });
    seed(account, incidentKey('site', fingerprint), {
      schema: 'registry-guard/incident/v1',
      bucket: 'site',
      fingerprint,
      claimedAt: at(-MINUTE).toISOString(),
      claimedBy: 'CloudTrail PutBucketPolicy (timed out)',
      evidenceKey: `site/${at(-MINUTE).toISOString()}-dead0001.json`,
    });
    const duplicate = await account.handler()(configChangeEvent('site'));
    expect(duplicate.buckets[0].incident?.role).toBe('duplicate');
    // Lambda retries the dead owner's event a minute later: the bucket is closed, and the hold still runs.
    await account.handler({}, { now: () => at(MINUTE) })(cloudTrailBucketEvent('PutBucketPolicy', 'site'));
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
    expect(account.notices()).toEqual([]);
    // Once the hold is over, any invocation delivers it: on-call hears the bucket needs checking.
    await account.handler({}, { now: () => at(7 * MINUTE) })(scheduledEvent());
    expect(notices(account, /INTERRUPTED/)).toHaveLength(1);
    expect(notices(account, /stopped before it reported what it did/)).toHaveLength(1);
  });

  test('an exemption that expires within the incident window: the drift after it is its own incident, with evidence and a notice', async () => {
    const account = new FakeAccount().addBucket('site', {
      tags: exemptionTags('Open data, SEC-1234', '2026-11-25'),
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    // 23:55 on its last day: the exemption is in use, on-call is told once.
    await account.handler(
      {},
      { now: () => new Date('2026-11-25T23:55:00.000Z') },
    )(cloudTrailBucketEvent('PutBucketPolicy', 'site'));
    expect(notices(account, /EXEMPTION IN USE/)).toHaveLength(1);
    // 00:05 the next day: expired, the same state is now a drift.
    const after = await account.handler(
      {},
      { now: () => new Date('2026-11-26T00:05:00.000Z') },
    )(configChangeEvent('site'));
    expect(after.buckets[0].compliance).toBe('NON_COMPLIANT');
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
    // The guard changed the bucket: it must say so and keep what it replaced.
    expect(account.evidence().size).toBe(1);
    expect(account.notices()).toHaveLength(2);
  });

  test('a bucket the guard cannot read is one incident: twenty events, one page', async () => {
    const account = new FakeAccount().addBucket('locked', { blockPublicAccess: ALL_ON });
    // The bucket's owner denies the guard's role GetBucketPolicy (a Deny in the bucket policy).
    account.failAlways('GetBucketPolicy', 'locked', s3Error('AccessDenied', 'Access Denied', 403));
    const handler = account.handler();
    for (let index = 0; index < 20; index += 1) {
      await handler(cloudTrailBucketEvent('PutBucketTagging', 'locked'));
    }
    expect(notices(account, /Could not verify/).length).toBeGreaterThan(0);
    // One unreadable state is one incident: twenty pages train on-call to mute the guard.
    expect(account.notices()).toHaveLength(1);
  });

  test('twenty simultaneous events for one drifted registry: one evidence, one page, the auditors kept', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement('roll'), auditorStatement('roll')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    const handler = account.handler();
    const events = Array.from({ length: 20 }, (_unused, index) =>
      index === 0
        ? configChangeEvent('roll')
        : cloudTrailBucketEvent(index % 2 === 0 ? 'PutBucketPolicy' : 'PutBucketAcl', 'roll'),
    );
    await Promise.all(events.map((event) => settle(handler(event))));
    expect(account.notices()).toHaveLength(1);
    expect(account.evidence().size).toBe(1);
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    const policy = JSON.parse(account.buckets.get('roll')?.policy ?? '{}') as {
      Statement: { Sid: string }[];
    };
    expect(policy.Statement.map((statement) => statement.Sid)).toEqual(['Auditors']);
    expect(notices(account, /LOOP/)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Closed: can someone keep a bucket open, or can a bad day make the guard call an open bucket fine?
// ---------------------------------------------------------------------------------------------------------

describe('keeping a bucket open', () => {
  test('an owner who denies the guard GetBucketPolicy does not keep a non-exempt public bucket open: Block Public Access goes on', async () => {
    const account = new FakeAccount().addBucket('site', {
      // No exemption tags, and the tags are readable: nothing may make this ordinary bucket public.
      tags: [{ Key: 'team', Value: 'web' }],
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    account.failAlways('GetBucketPolicy', 'site', s3Error('AccessDenied', 'Access Denied', 403));
    const result = await account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'site'));
    expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
    // Turning on Block Public Access needs no read and only tightens a bucket that may not be public
    // anyway; today the guard changes nothing and the bucket stays public for as long as the Deny stays.
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
  });

  test('with the ledger unreadable, an unmarked registry (tag removed) is NON_COMPLIANT (registry status unverified) and paged', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [],
      // Neutralised today by Block Public Access; a registry must have no public statement at all.
      policy: policyOf(publicStatement('roll')),
      blockPublicAccess: ALL_ON,
    });
    seedLedger(account, 'roll');
    account.failAlways(
      'GetObject',
      EVIDENCE_BUCKET,
      s3Error('InternalError', 'We encountered an internal error', 500),
    );
    await account.handler()(configChangeEvent('roll'));
    // The ledger says "unreadable", which registry-ledger.ts documents must not be read as "never a
    // registry"; decideBucket reads it as exactly that.
    expect(account.evaluations()[0].ComplianceType).not.toBe('COMPLIANT');
  });

  test('a sweep that runs short resumes where it stopped: every bucket is judged across attempts', async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 30; index += 1)
      account.addBucket(`a-${String(index).padStart(2, '0')}`, { blockPublicAccess: ALL_ON });
    account.addBucket('zz-public', { policy: policyOf(publicStatement('zz-public')) });
    const handler = account.handler();
    // Lambda's first attempt, its two retries and the next scheduled sweep, each with time for ten buckets:
    // 40 bucket-slots for 32 buckets, so every bucket is judged only if each attempt starts where the last
    // one stopped.
    for (let attempt = 0; attempt < 4; attempt += 1) {
      let calls = 0;
      const remaining = (): number => (calls++ < 10 ? 120_000 : SWEEP_TIME_RESERVE_MS - 1);
      await settle(handler(scheduledEvent(), lambdaContext(remaining)));
    }
    const judged = new Set(account.evaluations().map((evaluation) => evaluation.ComplianceResourceId));
    expect(judged.size).toBe(32);
    expect(account.buckets.get('zz-public')?.blockPublicAccess).toEqual(ALL_ON);
  });

  test('Block Public Access denied (SCP) on an ordinary bucket: the public statement is removed from a backup, or STILL PUBLIC fails the run', async () => {
    const account = new FakeAccount().addBucket('site', {
      policy: policyOf(publicStatement('site'), auditorStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    account.failAlways(
      'PutPublicAccessBlock',
      'site',
      s3Error('AccessDenied', 'explicit deny in an SCP', 403),
    );
    await account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'site'));
    const policy = JSON.parse(account.buckets.get('site')?.policy ?? '{}') as {
      Statement: { Sid: string }[];
    };
    expect(policy.Statement.map((statement) => statement.Sid)).toEqual(['Auditors']);
    expect(account.evidence().size).toBe(1);

    // The same with no evidence bucket: no backup, no rewrite, so it must fail loudly.
    const bare = new FakeAccount().addBucket('site', {
      policy: policyOf(publicStatement('site')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    bare.failAlways('PutPublicAccessBlock', 'site', s3Error('AccessDenied', 'explicit deny in an SCP', 403));
    await expect(
      bare.handler({ EVIDENCE_BUCKET: undefined })(cloudTrailBucketEvent('PutBucketPolicy', 'site')),
    ).rejects.toBeInstanceOf(StillPublicError);
    expect(bare.notices()[0].message).toMatch(/^STILL PUBLIC/);
    expect(bare.buckets.get('site')?.policy).toBeDefined();
  });

  test('the evidence bucket is gone: Block Public Access still goes on and its previous value is in the notice', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement('roll')),
      blockPublicAccess: { ...OPEN_BPA, BlockPublicAcls: true },
    });
    account.buckets.delete(EVIDENCE_BUCKET);
    // The invocation fails loudly (pending notices cannot be listed): the DLQ and errors alarm see it.
    const result = await settle(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'roll')));
    expect(result).toBeInstanceOf(DeliveryError);
    expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
    // No backup: the public statement is left for a human, never rewritten blind.
    expect(account.buckets.get('roll')?.policy).toBe(policyOf(publicStatement('roll')));
    expect(account.notices()[0].message).toContain(
      'Previous bucket-level Block Public Access (recorded nowhere else): {"BlockPublicAcls":true,',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Hostile tags and values.
// ---------------------------------------------------------------------------------------------------------

describe('hostile tags', () => {
  test.each([
    ['a 29 February that does not exist', '2026-02-29'],
    ['a date with a time', '2026-12-01T00:00:00Z'],
    ['a date with a zone offset', '2026-12-01+00:00'],
    ['Arabic-Indic digits', '٢٠٢٦-١٢-٠١'],
    ['full-width digits', '２０２６-１２-０１'],
    ['a non-ASCII hyphen', '2026‐12‐01'],
    ['a far-future date', '2099-12-31'],
    ['a day-first date', '01-12-2026'],
  ])(
    'DEFENDED: an exemption expiring on %s exempts nothing: the bucket is closed',
    async (_case, expires) => {
      const account = new FakeAccount().addBucket('site', {
        tags: exemptionTags('Open data', expires),
        policy: policyOf(publicStatement('site')),
      });
      const result = await account.handler()(configChangeEvent('site'));
      expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
      expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
    },
  );

  test('29 February of a leap year within the maximum is a real exemption', async () => {
    const account = new FakeAccount().addBucket('site', {
      tags: exemptionTags('Open data', '2028-02-29'),
      policy: policyOf(publicStatement('site')),
    });
    const result = await account.handler(
      { MAX_EXEMPTION_DAYS: '3650' },
      { now: () => new Date('2028-01-15T00:00:00Z') },
    )(configChangeEvent('site'));
    expect(result.buckets[0].compliance).toBe('NOT_APPLICABLE');
  });

  test.each([
    ['Registry-Guard:Public-Exemption', 'registry-guard:exemption-expires'],
    [' registry-guard:public-exemption', 'registry-guard:exemption-expires'],
    ['registry-guard:public-exemption', 'Registry-Guard:Exemption-Expires'],
    ['registry‐guard:public-exemption', 'registry-guard:exemption-expires'],
  ])('DEFENDED: exemption keys %j / %j in another spelling exempt nothing', async (reasonKey, expiresKey) => {
    const account = new FakeAccount().addBucket('site', {
      tags: [
        { Key: reasonKey, Value: 'Open data' },
        { Key: expiresKey, Value: '2026-12-01' },
      ],
      policy: policyOf(publicStatement('site')),
    });
    const result = await account.handler()(configChangeEvent('site'));
    expect(result.buckets[0].compliance).toBe('NON_COMPLIANT');
    expect(account.buckets.get('site')?.blockPublicAccess).toEqual(ALL_ON);
  });

  test.each([
    [
      'a lookalike hyphen in the value',
      { Key: 'registry-guard:classification', Value: 'sensitive‐registry' },
    ],
    ['a Cyrillic "е" in the value', { Key: 'registry-guard:classification', Value: 'sеnsitive-registry' }],
    [
      'a zero-width space in the key',
      { Key: 'registry-guard:classification\u200b', Value: 'sensitive-registry' },
    ],
    ['another value', { Key: 'registry-guard:classification', Value: 'public' }],
  ])(
    'DEFENDED: a known registry re-tagged with %s plus a valid exemption stays a registry: closed and paged',
    async (_case, tag) => {
      const account = new FakeAccount().addBucket('roll', {
        tags: [tag, ...exemptionTags('Open data', '2026-12-01')],
        policy: policyOf(publicStatement('roll'), auditorStatement('roll')),
        blockPublicAccess: { ...OPEN_BPA },
      });
      seedLedger(account, 'roll');
      const result = await account.handler()(cloudTrailBucketEvent('PutBucketTagging', 'roll'));
      expect(result.buckets[0]).toMatchObject({
        compliance: 'NON_COMPLIANT',
        isRegistry: true,
        registryTagRemoved: true,
      });
      expect(account.buckets.get('roll')?.blockPublicAccess).toEqual(ALL_ON);
      expect(account.buckets.get('roll')?.policy).toBe(policyOf(auditorStatement('roll')));
      expect(account.notices()[0].message).toMatch(/^REGISTRY UNMARKED/);
    },
  );

  test('the registry ledger is read across pages in a sweep: an unmarked registry on page 3 is still a registry', async () => {
    const account = new FakeAccount();
    for (let index = 0; index < 2500; index += 1)
      seed(account, registryLedgerKey(`a-registry-${String(index).padStart(4, '0')}`), { since: 'x' });
    account.addBucket('zz-roll', {
      tags: exemptionTags('Open data', '2026-12-01'),
      policy: policyOf(publicStatement('zz-roll')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    seedLedger(account, 'zz-roll');
    // S3 returns at most 1,000 keys a page, with a continuation token.
    const keysUnder = (prefix: string): string[] =>
      [...account.objects.keys()]
        .filter((name) => name.startsWith(`${EVIDENCE_BUCKET}/${prefix}`))
        .map((name) => name.slice(EVIDENCE_BUCKET.length + 1))
        .sort();
    account.s3Mock.on(ListObjectsV2Command, { Prefix: '_registries/' }).callsFake((input) => {
      const keys = keysUnder('_registries/');
      const start = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
      const page = keys.slice(start, start + 1000);
      const next = start + page.length;
      return {
        Contents: page.map((Key) => ({ Key, LastModified: NOW })),
        KeyCount: page.length,
        IsTruncated: next < keys.length,
        NextContinuationToken: next < keys.length ? String(next) : undefined,
      };
    });
    await account.handler()(scheduledEvent());
    const evaluation = account.evaluations().find((entry) => entry.ComplianceResourceId === 'zz-roll');
    expect(evaluation?.ComplianceType).toBe('NON_COMPLIANT');
    expect(account.buckets.get('zz-roll')?.blockPublicAccess).toEqual(ALL_ON);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Lost update: the owner changes the policy while the guard works.
// ---------------------------------------------------------------------------------------------------------

describe('lost update', () => {
  test('a statement the owner adds between the read and the rewrite survives, and the replaced state is kept', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement('roll')),
      blockPublicAccess: { ...OPEN_BPA },
    });
    // The owner adds the auditors' statement right after the guard turned on Block Public Access.
    const ownersPolicy = policyOf(publicStatement('roll'), auditorStatement('roll'));
    let changed = false;
    const original = account.buckets.get('roll')!;
    account.buckets.set(
      'roll',
      new Proxy(original, {
        set(target, property, value) {
          Reflect.set(target, property, value);
          if (property === 'blockPublicAccess' && !changed) {
            changed = true;
            target.policy = ownersPolicy;
          }
          return true;
        },
      }),
    );
    const result = await account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'roll'));
    expect(account.buckets.get('roll')?.policy).toBe(policyOf(auditorStatement('roll')));
    expect(result.buckets[0].remediation?.replaced).toHaveLength(1);
    const replaced = [...account.objects.entries()].find(([name]) => name.includes('/replaced-policy-'));
    expect(JSON.parse(replaced?.[1] ?? '{}')).toMatchObject({ replaced: ownersPolicy });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Forged and foreign input.
// ---------------------------------------------------------------------------------------------------------

describe('forged and foreign input', () => {
  test('a CloudTrail event naming our bucket but another account is refused before any read', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    const event = { ...cloudTrailBucketEvent('PutBucketPolicy', 'roll'), account: '999988887777' };
    const result = await account.handler()(event);
    expect(result.ignored).toMatch(/names account 999988887777/);
    expect(account.operations()).toEqual([]);
    expect(account.notices()).toEqual([]);
  });

  test('a failed call (errorCode) pages nobody and reads nothing', async () => {
    const account = new FakeAccount().addBucket('roll', {
      tags: [REGISTRY_TAG],
      blockPublicAccess: OPEN_BPA,
    });
    const event = cloudTrailBucketEvent('PutBucketPolicy', 'roll');
    (event.detail as Record<string, unknown>).errorCode = 'AccessDenied';
    const result = await account.handler()(event);
    expect(result.ignored).toMatch(/the call failed \(AccessDenied\)/);
    expect(account.operations()).toEqual([]);
    expect(account.notices()).toEqual([]);
  });

  test.each([
    ['a bucket name with a slash', 'roll/../other'],
    ['a bucket name with a newline', 'roll\nInjected: yes'],
    ['a 300-character bucket name', 'r'.repeat(300)],
  ])('DEFENDED: %s is rejected with a clear InvalidEventError before any call', async (_case, bucket) => {
    const account = new FakeAccount();
    await expect(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', bucket))).rejects.toThrow(
      /^Event rejected: detail\.requestParameters\.bucketName /,
    );
    expect(account.totalCalls()).toBe(0);
  });

  test('a ResponseURL in a response bucket anyone could name is not trusted', () => {
    // CloudFormation's own response buckets end in a Region code (useast1, euwest1, ...). A bucket called
    // cloudformation-custom-resource-response-attacker can be created by anyone, and the guard would PUT
    // the stack's ids and its answer to it.
    expect(
      isCloudFormationResponseUrl(
        new URL(
          'https://cloudformation-custom-resource-response-attacker.s3.amazonaws.com/x?X-Amz-Signature=1',
        ),
      ),
    ).toBe(false);
  });
});
