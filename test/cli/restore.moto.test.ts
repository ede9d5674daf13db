/**
 * `registry-guard restore` against moto: real SDK v3 clients over HTTP, pointed at moto by AWS_ENDPOINT_URL
 * (on `localhost`, so S3 must be addressed by path). Each bucket is first made public, backed up with the
 * guard's own writeEvidence, then closed, as the guard would leave it.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as path from 'path';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketTaggingCommand,
  GetObjectAclCommand,
  Grant,
  PublicAccessBlockConfiguration,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import {
  CreateAccessPointCommand,
  GetAccessPointPolicyCommand,
  PutAccessPointPolicyCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { runCliAsync } from '../../lib/cli/run-cli';
import { RestoreDependencies, runRestore } from '../../lib/cli/restore';
import {
  RESTORE_EXIT_AWS,
  RESTORE_EXIT_EVIDENCE_REFUSED,
  RESTORE_EXIT_OK,
  RESTORE_EXIT_REFUSED_PUBLIC,
  RESTORE_EXIT_USAGE,
} from '../../lib/cli/restore-errors';
import { MAX_EVIDENCE_BYTES } from '../../lib/cli/restore-evidence';
import { RestoreClients } from '../../lib/cli/restore-live';
import {
  EvidenceDocument,
  evidenceKey,
  EvidenceRef,
  writeEvidence,
} from '../../lib/remediation/act/evidence';
import { readExemption } from '../../lib/remediation/decide/exemption';
import { readBucketState } from '../../lib/remediation/read/bucket-state';
import { restoreCommandFor } from '../../lib/remediation/report/restore-command';
import { liveBlockPublicAccess, livePolicy } from '../support/live-bucket';
import { MotoServer, startMotoServer, useLoopbackHost } from '../support/moto-server';

const REPO = path.resolve(__dirname, '../..');
const ACCOUNT = '123456789012';
const EVIDENCE_BUCKET = 'registry-guard-evidence';
const NOW = new Date('2026-11-25T03:00:00.000Z');
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const REGISTRY_TAG: Tag = { Key: 'registry-guard:classification', Value: 'sensitive-registry' };
const ALL_ON: PublicAccessBlockConfiguration = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

function publicStatement(bucket: string): Record<string, unknown> {
  return {
    Sid: 'PublicRead',
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/*`,
  };
}

function auditorStatement(bucket: string): Record<string, unknown> {
  return {
    Sid: 'Auditors',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Auditors` },
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/*`,
  };
}

function policyOf(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// moto must run here: a missing moto fails these tests rather than skipping them.
let moto: MotoServer;
let s3: S3Client;
let savedEnvironment: Record<string, string | undefined> = {};
let evidenceCounter = 0;

beforeAll(async () => {
  moto = await startMotoServer();
  const overrides: Record<string, string> = {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    // `localhost`, not 127.0.0.1: the SDK would address `bucket.localhost` unless the CLI forces path style.
    AWS_ENDPOINT_URL: `http://localhost:${moto.port}`,
    AWS_ENDPOINT_URL_S3_CONTROL: `http://localhost:${moto.port}`,
  };
  savedEnvironment = Object.fromEntries(Object.keys(overrides).map((key) => [key, process.env[key]]));
  Object.assign(process.env, overrides);
  s3 = new S3Client({ forcePathStyle: true });
});

afterAll(async () => {
  for (const [key, value] of Object.entries(savedEnvironment)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: EVIDENCE_BUCKET,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
});

/** Runs `registry-guard restore ARGS` in-process, with the CLI's own clients unless `clients` is given. */
async function restore(args: readonly string[], dependencies: RestoreDependencies = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runRestore(
    args,
    { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    { now: () => NOW, ...dependencies },
  );
  return { code, stdout, stderr };
}

/** The arguments the notice prints for `ref` (its restore command without `npx registry-guard restore`). */
function noticeArgs(ref: EvidenceRef): string[] {
  const command = restoreCommandFor(ref);
  // The guard's keys and moto's version ids need no shell quoting: the words are the arguments.
  expect(command).not.toMatch(/'/);
  return command.split(' ').slice(3);
}

/** A refusal is one line on stderr and nothing on stdout. */
function expectOneLineRefusal(result: RunResult, code: number, pattern: RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^registry-guard: .+\n$/);
  expect(result.stderr.split('\n')).toHaveLength(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.code).toBe(code);
}

async function ownerGrant(bucket: string): Promise<Grant> {
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  return { Grantee: { Type: 'CanonicalUser', ID: acl.Owner?.ID }, Permission: 'FULL_CONTROL' };
}

async function setAcl(bucket: string, grants: Grant[]): Promise<void> {
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: acl.Owner, Grants: grants } }),
  );
}

async function liveGrants(bucket: string): Promise<string[]> {
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  return (acl.Grants ?? [])
    .map((grant) => `${grant.Grantee?.URI ?? grant.Grantee?.ID} ${grant.Permission}`)
    .sort();
}

async function liveTags(bucket: string): Promise<Tag[]> {
  try {
    return (await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet ?? [];
  } catch {
    return [];
  }
}

/** Backs the bucket up as the guard does (its own reader and writer), with `overrides` on the record. */
async function backUp(bucket: string, overrides: Partial<EvidenceDocument> = {}): Promise<EvidenceRef> {
  const reading = await readBucketState(s3, bucket, ACCOUNT);
  if (reading.status !== 'found') throw new Error(`test setup: ${bucket} is ${reading.status}`);
  const state = reading.state;
  evidenceCounter += 1;
  const evidenceId = `e${evidenceCounter.toString(16).padStart(7, '0')}`;
  const document: EvidenceDocument = {
    schema: 'registry-guard/evidence/v1',
    evidenceId,
    capturedAt: NOW.toISOString(),
    bucket,
    account: ACCOUNT,
    region: 'us-east-1',
    registryBucket: false,
    mode: 'remediate',
    event: 'CloudTrail PutBucketPolicy at 2026-11-25T02:59:00Z',
    whatWasPublic: ['bucket policy statement 1 (Sid "PublicRead")'],
    before: {
      policy: state.policy ?? null,
      acl: state.acl,
      blockPublicAccess: state.blockPublicAccess ?? null,
      ownershipControls: null,
      tags: state.tags,
      accountBlockPublicAccess: null,
    },
    ...overrides,
  };
  return writeEvidence(s3, EVIDENCE_BUCKET, evidenceKey(bucket, NOW, evidenceId), document);
}

/**
 * An ordinary bucket made public (a public statement beside an auditor's, an AllUsers READ grant, no Block
 * Public Access), backed up, then closed: all four settings on, the public statement and grant removed.
 */
async function remediatedBucket(
  bucket: string,
  options: { tags?: Tag[]; registryBucket?: boolean } = {},
): Promise<EvidenceRef> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (options.tags !== undefined)
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: options.tags } }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: policyOf(publicStatement(bucket), auditorStatement(bucket)),
    }),
  );
  const owner = await ownerGrant(bucket);
  await setAcl(bucket, [owner, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }]);
  const ref = await backUp(bucket, { registryBucket: options.registryBucket ?? false });
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: ALL_ON }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyOf(auditorStatement(bucket)) }));
  await setAcl(bucket, [owner]);
  return ref;
}

/** The closed state {@link remediatedBucket} leaves, to show a refused restore changed nothing. */
async function expectStillClosed(bucket: string): Promise<void> {
  expect(await liveBlockPublicAccess(s3, bucket)).toEqual(ALL_ON);
  expect(JSON.parse((await livePolicy(s3, bucket)) ?? 'null')).toEqual(
    JSON.parse(policyOf(auditorStatement(bucket))),
  );
  expect((await liveGrants(bucket)).some((grant) => grant.startsWith(ALL_USERS))).toBe(false);
}

/** Writes raw bytes as an evidence object; returns the notice-style arguments that pin them. */
async function rawEvidence(key: string, body: string | Buffer): Promise<string[]> {
  const output = await s3.send(new PutObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: key, Body: body }));
  return [
    `s3://${EVIDENCE_BUCKET}/${key}`,
    '--version-id',
    output.VersionId ?? '',
    '--sha256',
    sha256Hex(body),
  ];
}

describe('restore: dry run and --apply on an ordinary bucket', () => {
  test('the dry run prints the policy, ACL and Block Public Access differences and changes nothing', async () => {
    const ref = await remediatedBucket('open-data');
    const result = await restore(noticeArgs(ref));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(RESTORE_EXIT_OK);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      'registry-guard restore: DRY RUN, nothing changed. Would restore 3 settings: bucket Block Public Access, bucket policy, bucket ACL. Add --apply to restore.',
    );
    expect(lines).toContain('Bucket: open-data (account 123456789012): ordinary bucket');
    expect(lines).toEqual(
      expect.arrayContaining([
        '  - BlockPublicAcls: true',
        '  + BlockPublicAcls: false',
        '  - RestrictPublicBuckets: true',
        '  + RestrictPublicBuckets: false',
        '  +       "Sid": "PublicRead",',
        '  +       "Principal": "*",',
        '  + Group AllUsers READ',
      ]),
    );
    // The auditor's statement is in both: context, not a change.
    expect(lines).toContain('          "Sid": "Auditors",');
    expect(result.stdout).toMatch(/SHA-256 matches --sha256/);
    expect(result.stdout).toMatch(/WARNING: what would be put back is public .*add --exempt-days N/);
    await expectStillClosed('open-data');
  });

  test('--apply puts the bucket back exactly as the record says, and a second run finds nothing to restore', async () => {
    const ref = await remediatedBucket('open-data');
    const result = await restore([...noticeArgs(ref), '--apply']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(RESTORE_EXIT_OK);
    expect(result.stdout.split('\n')[0]).toBe(
      'registry-guard restore: RESTORED 3 settings: bucket Block Public Access, bucket policy, bucket ACL',
    );
    expect(JSON.parse((await livePolicy(s3, 'open-data')) ?? 'null')).toEqual(
      JSON.parse(policyOf(publicStatement('open-data'), auditorStatement('open-data'))),
    );
    expect(await liveGrants('open-data')).toEqual(
      [`${(await ownerGrant('open-data')).Grantee?.ID} FULL_CONTROL`, `${ALL_USERS} READ`].sort(),
    );
    // The record had no Block Public Access configuration: restored by removing the guard's.
    expect(await liveBlockPublicAccess(s3, 'open-data')).toBeUndefined();
    const again = await restore([...noticeArgs(ref), '--apply']);
    expect(again.code).toBe(RESTORE_EXIT_OK);
    expect(again.stdout.split('\n')[0]).toBe('registry-guard restore: nothing to restore');
  });

  test('writes Block Public Access first when it loosens, since S3 refuses a public policy while it is on', async () => {
    const ref = await remediatedBucket('open-data');
    const sent: string[] = [];
    const recording = (): RestoreClients => {
      const client = new S3Client({ forcePathStyle: true });
      const control = new S3ControlClient({});
      useLoopbackHost(control);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize', name: 'recordCommands' },
      );
      control.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize', name: 'recordCommands' },
      );
      return { s3: client, s3Control: () => control };
    };
    const result = await restore([...noticeArgs(ref), '--apply', '--exempt-days', '30'], {
      clients: recording,
    });
    expect(result.code).toBe(RESTORE_EXIT_OK);
    const writes = sent.filter((name) => /^(Put|Delete|Tag)/.test(name));
    expect(writes).toEqual([
      'TagResourceCommand',
      'DeletePublicAccessBlockCommand',
      'PutBucketPolicyCommand',
      'PutBucketAclCommand',
    ]);
  });

  test('--format json gives each change with its live and recorded value', async () => {
    const ref = await remediatedBucket('open-data');
    const result = await restore([...noticeArgs(ref), '--format', 'json']);
    expect(result.code).toBe(RESTORE_EXIT_OK);
    const report = JSON.parse(result.stdout) as {
      mode: string;
      outcome: string;
      changes: { setting: string; live: unknown; restored: unknown }[];
      evidence: { sha256: string; versionId: string };
    };
    expect(report.mode).toBe('dry-run');
    expect(report.outcome).toBe('would-restore');
    expect(report.evidence).toMatchObject({ sha256: ref.sha256, versionId: ref.versionId });
    expect(report.changes.map((change) => change.setting)).toEqual(['block-public-access', 'policy', 'acl']);
    expect(report.changes[0]).toMatchObject({ live: ALL_ON, restored: null });
  });

  test('a record without a policy never deletes the policy the bucket has now', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    const ref = await backUp('open-data');
    const denyInsecure = policyOf({
      Sid: 'TlsOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: 'arn:aws:s3:::open-data/*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'open-data', Policy: denyInsecure }));
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'open-data', PublicAccessBlockConfiguration: ALL_ON }),
    );
    const result = await restore([...noticeArgs(ref), '--apply']);
    expect(result.code).toBe(RESTORE_EXIT_OK);
    expect(result.stdout).toMatch(/bucket policy: the record had none .* restore never deletes a policy/);
    expect(await livePolicy(s3, 'open-data')).toBe(denyInsecure);
    expect(await liveBlockPublicAccess(s3, 'open-data')).toBeUndefined();
  });

  test('a partial record (the guard could not read the bucket whole) restores only Block Public Access', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    const ref = await backUp('open-data', {
      before: {
        blockPublicAccess: {
          BlockPublicAcls: true,
          IgnorePublicAcls: false,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: false,
        },
        tags: [],
        unreadable: ['GetBucketPolicy: AccessDenied'],
      },
    });
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'open-data', PublicAccessBlockConfiguration: ALL_ON }),
    );
    const result = await restore([...noticeArgs(ref), '--apply']);
    expect(result.code).toBe(RESTORE_EXIT_OK);
    expect(result.stdout).toMatch(/Block Public Access only/);
    expect(await liveBlockPublicAccess(s3, 'open-data')).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    });
  });
});

describe('restore: --exempt-days', () => {
  test('tags an ordinary bucket exempt for N days, keeping its other tags, so the guard leaves it open', async () => {
    const ref = await remediatedBucket('open-data', { tags: [{ Key: 'team', Value: 'open-data' }] });
    const result = await restore([
      ...noticeArgs(ref),
      '--apply',
      '--exempt-days',
      '30',
      '--exempt-reason',
      'Open data portal SEC-1234',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(RESTORE_EXIT_OK);
    const tags = await liveTags('open-data');
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'open-data' },
        { Key: 'registry-guard:public-exemption', Value: 'Open data portal SEC-1234' },
        { Key: 'registry-guard:exemption-expires', Value: '2026-12-25' },
      ]),
    );
    expect(tags).toHaveLength(3);
    // The guard's own reading of the tags, with its default maximum: a valid exemption.
    expect(readExemption(tags, NOW, 90)).toEqual({
      status: 'valid',
      reason: 'Open data portal SEC-1234',
      expires: '2026-12-25',
    });
    expect(result.stdout).not.toMatch(/will close/);
  });

  test('is bounded by the guard maximum: 91 days by default, and what MAX_EXEMPTION_DAYS says', async () => {
    const ref = await remediatedBucket('open-data');
    const tooLong = await restore([...noticeArgs(ref), '--apply', '--exempt-days', '91']);
    expectOneLineRefusal(tooLong, RESTORE_EXIT_USAGE, /--exempt-days 91 is more than 90 days/);
    const configured = await restore([...noticeArgs(ref), '--apply', '--exempt-days', '15'], {
      env: { ...process.env, MAX_EXEMPTION_DAYS: '14' },
    });
    expectOneLineRefusal(configured, RESTORE_EXIT_USAGE, /more than 14 days/);
    const zero = await restore([...noticeArgs(ref), '--exempt-days', '0']);
    expectOneLineRefusal(zero, RESTORE_EXIT_USAGE, /not a whole number of days from 1 to 90/);
    await expectStillClosed('open-data');
    expect(await liveTags('open-data')).toEqual([]);
  });

  test('is refused for a registry bucket', async () => {
    const ref = await remediatedBucket('electoral-roll', { tags: [REGISTRY_TAG], registryBucket: true });
    const result = await restore([...noticeArgs(ref), '--apply', '--exempt-days', '10']);
    expectOneLineRefusal(result, RESTORE_EXIT_REFUSED_PUBLIC, /a registry is never exempt/);
    expect(await liveTags('electoral-roll')).toEqual([REGISTRY_TAG]);
  });
});

describe('restore: registry buckets are never made public again', () => {
  test('a tagged registry: the diff is shown, the restore refused, nothing changed', async () => {
    const ref = await remediatedBucket('electoral-roll', { tags: [REGISTRY_TAG], registryBucket: true });
    const result = await restore([...noticeArgs(ref), '--apply']);
    expect(result.code).toBe(RESTORE_EXIT_REFUSED_PUBLIC);
    expect(result.stdout.split('\n')[0]).toBe(
      'registry-guard restore: REFUSED, nothing changed (registry bucket)',
    );
    expect(result.stdout).toMatch(
      /bucket policy statement 1 \(Sid "PublicRead"\): Principal "\*" is everyone/,
    );
    expect(result.stdout).toMatch(/ACL grants READ to AllUsers/);
    expect(result.stdout).toMatch(/bucket Block Public Access would turn off BlockPublicAcls/);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(
      /^registry-guard: electoral-roll: refused: a registry bucket is never made public again/,
    );
    await expectStillClosed('electoral-roll');
  });

  test('a bucket the guard ledger knows as a registry is refused even with its tag removed and an ordinary record', async () => {
    const ref = await remediatedBucket('electoral-roll', { registryBucket: false });
    await s3.send(
      new PutObjectCommand({
        Bucket: EVIDENCE_BUCKET,
        Key: '_registries/electoral-roll.json',
        Body: JSON.stringify({
          schema: 'registry-guard/registry/v1',
          bucket: 'electoral-roll',
          since: '2026-01-01T00:00:00.000Z',
        }),
      }),
    );
    const result = await restore([...noticeArgs(ref), '--apply']);
    expect(result.code).toBe(RESTORE_EXIT_REFUSED_PUBLIC);
    expect(result.stdout).toMatch(
      /REGISTRY \(the guard's registry ledger has known it as one since 2026-01-01/,
    );
    await expectStillClosed('electoral-roll');
  });

  test('a registry whose record holds nothing public is restored', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'electoral-roll' }));
    await s3.send(
      new PutBucketTaggingCommand({ Bucket: 'electoral-roll', Tagging: { TagSet: [REGISTRY_TAG] } }),
    );
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'electoral-roll', PublicAccessBlockConfiguration: ALL_ON }),
    );
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'electoral-roll',
        Policy: policyOf(auditorStatement('electoral-roll')),
      }),
    );
    const ref = await backUp('electoral-roll', { registryBucket: true });
    const later = policyOf({ ...auditorStatement('electoral-roll'), Sid: 'Replaced' });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'electoral-roll', Policy: later }));
    const result = await restore([...noticeArgs(ref), '--apply']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(RESTORE_EXIT_OK);
    expect(JSON.parse((await livePolicy(s3, 'electoral-roll')) ?? 'null')).toEqual(
      JSON.parse(policyOf(auditorStatement('electoral-roll'))),
    );
  });
});

describe('restore: a record that cannot be verified is refused, and nothing is changed', () => {
  test('a forged copy written as a new version: the pinned command still reads the original; the forged version is refused', async () => {
    const ref = await remediatedBucket('open-data');
    const original = await s3.send(new GetObjectAclCommand({ Bucket: EVIDENCE_BUCKET, Key: ref.key }));
    expect(original.Owner).toBeDefined();
    const forgedBody = JSON.stringify({
      schema: 'registry-guard/evidence/v1',
      evidenceId: 'f0f0f0f0',
      capturedAt: NOW.toISOString(),
      bucket: 'open-data',
      account: ACCOUNT,
      registryBucket: false,
      mode: 'remediate',
      event: 'forged',
      whatWasPublic: [],
      before: {
        policy: policyOf({
          Sid: 'Forged',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:*',
          Resource: 'arn:aws:s3:::open-data/*',
        }),
        acl: { Grants: [] },
        blockPublicAccess: null,
      },
    });
    const forged = await s3.send(
      new PutObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: ref.key, Body: forgedBody }),
    );
    const pinned = await restore(noticeArgs(ref));
    expect(pinned.code).toBe(RESTORE_EXIT_OK);
    expect(pinned.stdout).not.toMatch(/Forged/);
    const withForgedVersion = await restore([
      ref.uri,
      '--version-id',
      forged.VersionId ?? '',
      '--sha256',
      ref.sha256,
      '--apply',
    ]);
    expectOneLineRefusal(
      withForgedVersion,
      RESTORE_EXIT_EVIDENCE_REFUSED,
      /refused: its SHA-256 is [0-9a-f]{64}, not [0-9a-f]{64} as --sha256 says/,
    );
    const unpinned = await restore([ref.uri, '--sha256', ref.sha256, '--apply']);
    expectOneLineRefusal(
      unpinned,
      RESTORE_EXIT_EVIDENCE_REFUSED,
      /the evidence bucket is versioned \(Enabled\), so the record must be pinned: pass --version-id/,
    );
    await expectStillClosed('open-data');
  });

  test('a wrong --sha256 is refused', async () => {
    const ref = await remediatedBucket('open-data');
    const result = await restore([
      ref.uri,
      '--version-id',
      ref.versionId ?? '',
      '--sha256',
      'a'.repeat(64),
      '--apply',
    ]);
    expectOneLineRefusal(result, RESTORE_EXIT_EVIDENCE_REFUSED, /not a{64} as --sha256 says/);
    await expectStillClosed('open-data');
  });

  test('a wrong version id is refused', async () => {
    const ref = await remediatedBucket('open-data');
    const result = await restore([
      ref.uri,
      '--version-id',
      'not-a-version',
      '--sha256',
      ref.sha256,
      '--apply',
    ]);
    expectOneLineRefusal(
      result,
      RESTORE_EXIT_EVIDENCE_REFUSED,
      /refused: no such version \(version not-a-version\)/,
    );
    await expectStillClosed('open-data');
  });

  test('bytes that do not match the SHA-256 S3 stored for them are refused', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    const body = '{"schema":"registry-guard/evidence/v1"}';
    // moto keeps whatever checksum it is sent: stored checksum and bytes disagree, as after corruption.
    const output = await s3.send(
      new PutObjectCommand({
        Bucket: EVIDENCE_BUCKET,
        Key: 'open-data/corrupt.json',
        Body: body,
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: createHash('sha256').update('something else').digest('base64'),
      }),
    );
    const result = await restore([
      `s3://${EVIDENCE_BUCKET}/open-data/corrupt.json`,
      '--version-id',
      output.VersionId ?? '',
      '--apply',
    ]);
    expectOneLineRefusal(result, RESTORE_EXIT_EVIDENCE_REFUSED, /do not match the SHA-256 S3 stored/);
  });

  test('without --sha256 and without a checksum stored by S3 there is nothing to verify against: refused', async () => {
    const ref = await remediatedBucket('open-data');
    const result = await restore([ref.uri, '--version-id', ref.versionId ?? '', '--apply']);
    expectOneLineRefusal(
      result,
      RESTORE_EXIT_EVIDENCE_REFUSED,
      /cannot be verified: pass --sha256 from the notice/,
    );
    await expectStillClosed('open-data');
  });
});

describe('restore: hostile evidence objects', () => {
  beforeEach(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
  });

  test('a huge object is refused without being read whole', async () => {
    const body = Buffer.alloc(MAX_EVIDENCE_BYTES + 1, 0x20);
    const result = await restore(await rawEvidence('open-data/huge.json', body));
    expectOneLineRefusal(result, RESTORE_EXIT_EVIDENCE_REFUSED, /larger than 1048576 bytes/);
  });

  test.each([
    ['not JSON', 'this is not { json', /not JSON \(/],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8 text/],
    ['a JSON array', '[1,2,3]', /malformed evidence record: not a JSON object/],
    [
      'another schema',
      '{"schema":"registry-guard/evidence/v2","before":{}}',
      /schema is "registry-guard\/evidence\/v2", not registry-guard\/evidence\/v1/,
    ],
    ['no schema', '{"before":{}}', /schema is missing/],
    [
      'a replaced-state record',
      '{"schema":"registry-guard/evidence-replaced/v1"}',
      /a replaced-state record .* restore its "replaced" field by hand/,
    ],
  ])('%s is refused', async (_name, body, pattern) => {
    const result = await restore(await rawEvidence('open-data/hostile.json', body));
    expectOneLineRefusal(result, RESTORE_EXIT_EVIDENCE_REFUSED, pattern);
  });

  function record(overrides: Record<string, unknown>, before: Record<string, unknown>): string {
    return JSON.stringify({
      schema: 'registry-guard/evidence/v1',
      evidenceId: '1a2b3c4d',
      capturedAt: NOW.toISOString(),
      bucket: 'open-data',
      account: ACCOUNT,
      mode: 'remediate',
      event: 'test',
      whatWasPublic: [],
      before,
      ...overrides,
    });
  }
  const snapshot = { policy: null, acl: { Grants: [] }, blockPublicAccess: null };

  test.each([
    [
      'account-level evidence',
      '_account/123456789012/x.json',
      record({ bucket: undefined }, { accountBlockPublicAccess: null }),
      /account-level evidence: restore puts back/,
    ],
    [
      'a record naming another bucket than the prefix it is stored under',
      'open-data/x.json',
      record({ bucket: 'electoral-roll' }, snapshot),
      /names bucket electoral-roll, but it is not stored under electoral-roll\//,
    ],
    [
      'an access point snapshot for another bucket',
      'open-data/x.json',
      record({}, { accessPoint: { name: 'ap-one', bucket: 'electoral-roll', policy: null } }),
      /the access point snapshot names bucket "electoral-roll", the record open-data/,
    ],
    [
      'a bucket name S3 would not accept',
      'open-data/x.json',
      record({ bucket: 'Open_Data' }, snapshot),
      /"bucket" is not a bucket name/,
    ],
    [
      'a policy that is not JSON',
      'open-data/x.json',
      record({}, { ...snapshot, policy: 'not json' }),
      /"before.policy" is not JSON policy text/,
    ],
    [
      'a policy nested 1,000 deep',
      'open-data/x.json',
      record({}, { ...snapshot, policy: `{"a":${'['.repeat(1000)}${']'.repeat(1000)}}` }),
      /nests deeper than 16 levels/,
    ],
    [
      'an ACL grant to an unknown grantee type',
      'open-data/x.json',
      record({}, { ...snapshot, acl: { Grants: [{ Grantee: { Type: 'Everyone' }, Permission: 'READ' }] } }),
      /"before.acl.Grants\[0\].Grantee" is not a grantee S3 knows/,
    ],
    [
      'Block Public Access as strings',
      'open-data/x.json',
      record({}, { ...snapshot, blockPublicAccess: { BlockPublicAcls: 'false' } }),
      /"before.blockPublicAccess.BlockPublicAcls" is not true or false/,
    ],
    [
      'an unknown snapshot kind',
      'open-data/x.json',
      record({}, { somethingElse: true, blockPublicAccess: null }),
      /holds neither a bucket, an access point nor an object snapshot/,
    ],
    [
      'control characters in the evidence id',
      'open-data/x.json',
      record({ evidenceId: '\u001b[31mred' }, snapshot),
      /"evidenceId" is missing or not an id/,
    ],
  ])('%s is refused', async (_name, key, body, pattern) => {
    const result = await restore(await rawEvidence(key, body));
    expectOneLineRefusal(result, RESTORE_EXIT_EVIDENCE_REFUSED, pattern);
    expect(result.stderr).not.toContain('\u001b');
  });

  test('a record for a bucket that no longer exists is an AWS error, not a restore', async () => {
    const body = JSON.stringify({
      schema: 'registry-guard/evidence/v1',
      evidenceId: '1a2b3c4d',
      capturedAt: NOW.toISOString(),
      bucket: 'gone-bucket',
      account: ACCOUNT,
      before: { policy: null, acl: { Grants: [] }, blockPublicAccess: null },
    });
    const result = await restore(await rawEvidence('gone-bucket/x.json', body));
    expectOneLineRefusal(result, RESTORE_EXIT_AWS, /gone-bucket: NoSuchBucket/);
  });

  test('an unreachable endpoint is an AWS error on one line', async () => {
    const args = await rawEvidence('open-data/x.json', '{}');
    const unreachable = (): RestoreClients => ({
      s3: new S3Client({ endpoint: 'http://127.0.0.1:9', forcePathStyle: true, maxAttempts: 1 }),
      s3Control: () => new S3ControlClient({}),
    });
    const result = await restore(args, { clients: unreachable });
    expectOneLineRefusal(
      result,
      RESTORE_EXIT_AWS,
      /^registry-guard: s3:\/\/registry-guard-evidence\/open-data\/x.json: GetObject failed: /,
    );
  });
});

describe('restore: access point policies and object ACLs', () => {
  test('puts an access point policy back', async () => {
    const control = new S3ControlClient({});
    useLoopbackHost(control);
    const clients = (): RestoreClients => ({
      s3: new S3Client({ forcePathStyle: true }),
      s3Control: () => control,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    await control.send(
      new CreateAccessPointCommand({ AccountId: ACCOUNT, Name: 'open-data-ap', Bucket: 'open-data' }),
    );
    const publicPolicy = policyOf({
      Sid: 'Public',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/open-data-ap/object/*`,
    });
    const ref = await backUp('open-data', {
      before: {
        accessPoint: {
          name: 'open-data-ap',
          bucket: 'open-data',
          networkOrigin: 'Internet',
          blockPublicAccess: null,
          policy: publicPolicy,
        },
      },
    });
    const closed = policyOf({
      Sid: 'Auditors',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Auditors` },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/open-data-ap/object/*`,
    });
    await control.send(
      new PutAccessPointPolicyCommand({ AccountId: ACCOUNT, Name: 'open-data-ap', Policy: closed }),
    );
    const result = await restore([...noticeArgs(ref), '--apply'], { clients });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(RESTORE_EXIT_OK);
    expect(result.stdout).toMatch(/RESTORED 1 setting: access point policy/);
    const live = await control.send(
      new GetAccessPointPolicyCommand({ AccountId: ACCOUNT, Name: 'open-data-ap' }),
    );
    expect(JSON.parse(live.Policy ?? 'null')).toEqual(JSON.parse(publicPolicy));
  });

  /**
   * moto reads PutObjectAcl's grants only from `x-amz-grant-*` headers and ignores the AccessControlPolicy
   * body S3 takes (and the CLI sends): this test-only middleware moves the body's grants into those headers.
   */
  function objectAclBodyAsHeaders(client: S3Client): S3Client {
    const headerFields: Readonly<Record<string, string>> = {
      READ: 'GrantRead',
      READ_ACP: 'GrantReadACP',
      WRITE_ACP: 'GrantWriteACP',
      FULL_CONTROL: 'GrantFullControl',
    };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown> & { AccessControlPolicy?: { Grants?: Grant[] } };
        if (context.commandName === 'PutObjectAclCommand' && input.AccessControlPolicy !== undefined) {
          for (const grant of input.AccessControlPolicy.Grants ?? []) {
            const field = headerFields[grant.Permission ?? ''];
            const grantee =
              grant.Grantee?.URI === undefined ? `id="${grant.Grantee?.ID}"` : `uri="${grant.Grantee.URI}"`;
            input[field] = input[field] === undefined ? grantee : `${String(input[field])}, ${grantee}`;
          }
          delete input.AccessControlPolicy;
        }
        return next(args);
      },
      { step: 'initialize', name: 'motoObjectAclHeaders' },
    );
    return client;
  }

  test('puts an object ACL back, and never for a registry', async () => {
    const clients = (): RestoreClients => ({
      s3: objectAclBodyAsHeaders(new S3Client({ forcePathStyle: true })),
      s3Control: () => new S3ControlClient({}),
    });
    for (const [bucket, tags] of [
      ['open-data', []],
      ['electoral-roll', [REGISTRY_TAG]],
    ] as const) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (tags.length > 0)
        await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [...tags] } }));
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'data.csv', Body: 'a,b\n', ACL: 'public-read' }),
      );
      const publicAcl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'data.csv' }));
      const ref = await backUp(bucket, {
        before: { object: { key: 'data.csv', acl: { Owner: publicAcl.Owner, Grants: publicAcl.Grants } } },
      });
      await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'data.csv', ACL: 'private' }));
      const result = await restore([...noticeArgs(ref), '--apply'], { clients });
      const grants =
        (await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'data.csv' }))).Grants ?? [];
      const isPublic = grants.some((grant) => grant.Grantee?.URI === ALL_USERS);
      if (bucket === 'open-data') {
        expect(result.stderr).toBe('');
        expect(result.code).toBe(RESTORE_EXIT_OK);
        expect(isPublic).toBe(true);
      } else {
        expect(result.code).toBe(RESTORE_EXIT_REFUSED_PUBLIC);
        expect(result.stdout).toMatch(/object ACL grants READ to AllUsers/);
        expect(isPublic).toBe(false);
      }
    }
  });
});

describe('restore through the CLI entry', () => {
  test('runCliAsync dispatches restore; the real bin prints the dry run and exits with its code', async () => {
    const ref = await remediatedBucket('open-data');
    let stdout = '';
    const code = await runCliAsync(['restore', ...noticeArgs(ref)], {
      stdout: (text) => (stdout += text),
      stderr: () => undefined,
      isTty: false,
      version: '0.0.0-test',
    });
    expect(code).toBe(RESTORE_EXIT_OK);
    expect(stdout).toMatch(/^registry-guard restore: DRY RUN/);
    const bin = await runBin(['restore', ...noticeArgs(ref)]);
    expect(bin.code).toBe(RESTORE_EXIT_OK);
    expect(bin.stdout).toMatch(/^registry-guard restore: DRY RUN, nothing changed/);
    const refused = await runBin([
      'restore',
      ref.uri,
      '--version-id',
      ref.versionId ?? '',
      '--sha256',
      'b'.repeat(64),
    ]);
    expect(refused.code).toBe(RESTORE_EXIT_EVIDENCE_REFUSED);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^registry-guard: s3:\/\/registry-guard-evidence\/open-data\/.*: refused: its SHA-256/m,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    await expectStillClosed('open-data');
  });
});

/** Runs `bin/registry-guard.ts` with tsx, with this suite's environment (pointed at moto). */
function runBin(args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(REPO, 'node_modules/.bin/tsx'),
      [path.join(REPO, 'bin/registry-guard.ts'), ...args],
      {
        cwd: REPO,
        env: process.env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
