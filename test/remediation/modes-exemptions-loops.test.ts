import {
  ACCOUNT,
  ALL_ON,
  auditorStatement,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  NOW,
  OWNER_GRANT,
  policyOf,
  PUBLIC_READ_GRANT,
  publicStatement,
  REGISTRY_TAG,
  s3Error,
  scheduledEvent,
} from './support';

const ROLL = 'electoral-roll';

function exemptionTags(
  reason: string | undefined,
  expires: string | undefined,
): { Key: string; Value: string }[] {
  const tags = [];
  if (reason !== undefined) tags.push({ Key: 'registry-guard:public-exemption', Value: reason });
  if (expires !== undefined) tags.push({ Key: 'registry-guard:exemption-expires', Value: expires });
  return tags;
}

function writes(account: FakeAccount): string[] {
  return account.operations().filter((name) => /(^|:)(Put|Delete)/.test(name));
}

describe('report mode', () => {
  test('judges, evaluates and notifies, but makes no write call at all', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      tags: [REGISTRY_TAG],
      policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
      grants: [OWNER_GRANT, PUBLIC_READ_GRANT],
    });
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    await account.handler({ GUARD_MODE: 'report' })(scheduledEvent());

    expect(account.operations().every((name) => /(^|:)(Get|List)/.test(name))).toBe(true);
    expect(account.objects.size).toBe(0);
    const roll = account.evaluations().find((evaluation) => evaluation.ComplianceResourceId === ROLL);
    expect(roll?.ComplianceType).toBe('NON_COMPLIANT');
    expect(roll?.Annotation).toMatch(/; report mode: nothing changed;/);
    const subjects = account
      .notices()
      .map((notice) => notice.subject)
      .sort();
    expect(subjects).toEqual([
      'registry-guard: non-compliant bucket open-data (report mode, not changed)',
      `registry-guard: non-compliant registry bucket ${ROLL} (report mode, not changed)`,
    ]);
    expect(account.notices()[0].message).toContain('Mode: report (nothing was changed)');
  });

  test.each(['fix', 'REMEDIATE!', 'dry-run'])(
    'GUARD_MODE "%s" is not understood: report mode, said in the logs and the notice',
    async (mode) => {
      const account = new FakeAccount();
      account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
      const result = await account.handler({ GUARD_MODE: mode })(configChangeEvent('open-data'));
      expect(result.mode).toBe('report');
      expect(writes(account)).toEqual([]);
      const warning = `GUARD_MODE "${mode}" is not remediate or report: running in report mode, nothing is changed`;
      expect(account.logger.entries).toContainEqual(
        expect.objectContaining({ level: 'warn', message: warning }),
      );
      expect(account.notices()[0].message).toContain(`WARNING: ${warning}`);
    },
  );

  test.each(['remediate', 'Remediate', ' REMEDIATE ', ''])('GUARD_MODE "%s" remediates', async (mode) => {
    const account = new FakeAccount();
    account.addBucket('open-data', { policy: policyOf(publicStatement('open-data')) });
    await account.handler({ GUARD_MODE: mode })(configChangeEvent('open-data'));
    expect(account.buckets.get('open-data')?.blockPublicAccess).toEqual(ALL_ON);
  });
});

describe('exemptions', () => {
  const openWith = (tags: { Key: string; Value: string }[]): FakeAccount => {
    const account = new FakeAccount();
    account.addBucket('open-data', { tags, policy: policyOf(publicStatement('open-data')) });
    return account;
  };

  test('a valid exemption on an ordinary bucket, seen by a sweep: NOT_APPLICABLE, untouched, nobody paged', async () => {
    const account = openWith(exemptionTags('Open data portal, ticket SEC-1234', '2027-01-31'));
    await account.handler()(scheduledEvent());
    expect(
      account.evaluations().find((evaluation) => evaluation.ComplianceResourceId === 'open-data'),
    ).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: 'Exempt until 2027-01-31: Open data portal, ticket SEC-1234.',
    });
    expect(writes(account)).toEqual([]);
    expect(account.notices()).toEqual([]);
  });

  test('a change event that finds an exempt bucket public: NOT_APPLICABLE, untouched, on-call paged once', async () => {
    const account = openWith(exemptionTags('Open data portal, ticket SEC-1234', '2027-01-31'));
    const handler = account.handler();
    await handler(configChangeEvent('open-data'));
    await handler(cloudTrailBucketEvent('PutBucketPolicy', 'open-data'));
    expect(account.evaluations()[0]).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      Annotation: 'Exempt until 2027-01-31: Open data portal, ticket SEC-1234.',
    });
    expect(account.operationsOn('open-data').every((name) => name.startsWith('Get'))).toBe(true);
    expect(account.evidence().size).toBe(0);
    // Adding (or using) an exemption is news once per state, not once per event.
    const notices = account.notices();
    expect(notices).toHaveLength(1);
    expect(notices[0].subject).toBe('registry-guard: exempt bucket open-data is public until 2027-01-31');
    expect(notices[0].message).toMatch(
      /^EXEMPTION IN USE: the bucket is public on purpose until 2027-01-31: "Open data portal, ticket SEC-1234"\./,
    );
  });

  test('the exemption holds through the last day it names', async () => {
    const account = openWith(exemptionTags('Open data', NOW.toISOString().slice(0, 10)));
    await account.handler()(configChangeEvent('open-data'));
    expect(account.evaluations()[0].ComplianceType).toBe('NOT_APPLICABLE');
  });

  test.each([
    ['expired', exemptionTags('Open data', '2026-11-24'), 'exemption ignored: expired 2026-11-24'],
    [
      'a malformed date',
      exemptionTags('Open data', '31/01/2027'),
      'exemption ignored: registry-guard:exemption-expires "31/01/2027" is not a date (YYYY-MM-DD)',
    ],
    [
      'a date that does not exist',
      exemptionTags('Open data', '2027-02-30'),
      'exemption ignored: registry-guard:exemption-expires "2027-02-30" is not a date (YYYY-MM-DD)',
    ],
    [
      'a date more than 90 days away',
      exemptionTags('Open data', '2099-12-31'),
      'exemption ignored: 2099-12-31 is more than 90 days away, the longest an exemption may run',
    ],
    [
      'no reason',
      exemptionTags(undefined, '2027-01-31'),
      'exemption ignored: registry-guard:public-exemption (the reason) is missing',
    ],
    [
      'an empty reason',
      exemptionTags('  ', '2027-01-31'),
      'exemption ignored: registry-guard:public-exemption (the reason) is missing',
    ],
    [
      'no expiry',
      exemptionTags('Open data', undefined),
      'exemption ignored: registry-guard:exemption-expires is missing',
    ],
  ])('%s is no exemption: remediated, and the annotation says why', async (_case, tags, why) => {
    const account = openWith(tags);
    await account.handler()(configChangeEvent('open-data'));
    expect(account.evaluations()[0].ComplianceType).toBe('NON_COMPLIANT');
    expect(account.evaluations()[0].Annotation).toContain(why);
    expect(account.buckets.get('open-data')?.blockPublicAccess).toEqual(ALL_ON);
  });

  test('a registry bucket is never exempt', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {
      // An exemption that would be valid on an ordinary bucket.
      tags: [REGISTRY_TAG, ...exemptionTags('Public on purpose', '2027-01-31')],
      policy: policyOf(publicStatement(ROLL)),
    });
    await account.handler()(configChangeEvent(ROLL));
    expect(account.evaluations()[0].ComplianceType).toBe('NON_COMPLIANT');
    expect(account.evaluations()[0].Annotation).toContain(
      'exemption tags ignored: a registry bucket is never exempt',
    );
    expect(account.buckets.get(ROLL)?.policy).toBeUndefined();
  });
});

describe('loop detection', () => {
  /** Someone re-opens the bucket after each remediation. */
  async function remediateRepeatedly(account: FakeAccount, times: number[]): Promise<void> {
    let now = NOW;
    const handler = account.handler({}, { now: () => now });
    for (const minutes of times) {
      now = new Date(NOW.getTime() + minutes * 60_000);
      account.buckets.get(ROLL)!.policy = policyOf(publicStatement(ROLL));
      account.buckets.get(ROLL)!.blockPublicAccess = undefined;
      await handler(cloudTrailBucketEvent('PutBucketPolicy', ROLL));
    }
  }

  test('the third remediation within an hour is still made, and flagged as a loop', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    await remediateRepeatedly(account, [0, 20, 40]);

    const notices = account.notices();
    expect(notices.map((notice) => notice.subject.startsWith('[LOOP]'))).toEqual([false, false, true]);
    expect(notices[2].subject).toBe(`[LOOP] registry-guard: closed non-compliant registry bucket ${ROLL}`);
    expect(notices[2].message).toMatch(/^LOOP: the guard remediated this bucket 3 times in the last hour\./);
    expect(account.buckets.get(ROLL)).toMatchObject({ policy: undefined, blockPublicAccess: ALL_ON });
    const third = [...account.evidence().entries()].find(([key]) => key.includes('T03:40:00'));
    expect(third?.[1]).toMatchObject({ loop: { remediationsInLastHour: 3 } });
  });

  test('remediations more than an hour apart are not a loop', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    await remediateRepeatedly(account, [0, 50, 115]);
    expect(account.notices().some((notice) => notice.message.includes('LOOP'))).toBe(false);
  });

  test('the loop flag leads the annotation, so truncation never cuts it', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    await remediateRepeatedly(account, [0, 1, 2]);
    const results = account.logger.entries.filter((entry) => entry.message === 'Bucket non-compliant');
    expect(results[2].attributes.annotation).toMatch(/^LOOP: remediated 3 times in the last hour; /);
  });

  test('evidence of other buckets and older evidence are not counted', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    account.objects.set(`${EVIDENCE_BUCKET}/${ROLL}-archive/2026-11-25T02:59:00.000Z-aaaaaaaa.json`, '{}');
    account.objects.set(`${EVIDENCE_BUCKET}/${ROLL}/2026-11-25T01:59:00.000Z-bbbbbbbb.json`, '{}');
    account.objects.set(`${EVIDENCE_BUCKET}/${ROLL}/remediations/2026-11-25T02:59:00.000Z`, '');
    account.objects.set(`${EVIDENCE_BUCKET}/${ROLL}/2026-11-25T02:30:00.000Z-cccccccc.json`, '{}');
    await remediateRepeatedly(account, [0]);
    expect(account.notices()[0].message).not.toContain('LOOP');
  });
});

describe('annotation length', () => {
  test('a policy with many long public statements still yields an annotation of at most 256 characters', async () => {
    const account = new FakeAccount();
    const statements = Array.from({ length: 12 }, (_unused, index) =>
      publicStatement(ROLL, `PublicReadForPartner${index}WithAVeryLongStatementIdentifier`),
    );
    account.addBucket(ROLL, { tags: [REGISTRY_TAG], policy: policyOf(...statements) });
    await account.handler()(configChangeEvent(ROLL));
    const annotation = account.evaluations()[0].Annotation ?? '';
    expect(annotation).toHaveLength(256);
    expect(annotation.endsWith('…')).toBe(true);
    expect(annotation).toMatch(
      /^Public via bucket policy, registry Block Public Access off \(all four\); remediated:/,
    );
  });

  test('a long unverifiable reason is cut too', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, {});
    account.failAlways('GetBucketTagging', ROLL, s3Error('InternalError', 'x'.repeat(400), 500));
    await account.handler()(configChangeEvent(ROLL));
    expect(account.evaluations()[0].Annotation).toHaveLength(256);
  });
});

describe('notice subject', () => {
  test('stays within 100 characters for the longest bucket name and the loop flag', async () => {
    const account = new FakeAccount();
    const longName = `${'registry-'.repeat(6)}abcdefghi`;
    expect(longName).toHaveLength(63);
    account.addBucket(longName, { tags: [REGISTRY_TAG], policy: policyOf(publicStatement(longName)) });
    account.failAlways('PutPublicAccessBlock', longName, new Error('boom'));
    await account.handler()(configChangeEvent(longName));
    const [notice] = account.notices();
    expect(notice.subject.length).toBeLessThanOrEqual(100);
    expect(notice.subject.endsWith('...')).toBe(true);
    expect(notice.message).toContain(`Account: ${ACCOUNT}`);
  });
});
