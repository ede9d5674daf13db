/**
 * Writes a restore plan: the exemption tags first (so the guard, which hears every change, leaves the
 * bucket alone), then Block Public Access when it loosens (S3 refuses a public policy or ACL while it is
 * on), then the policy and ACLs, then Block Public Access when it only tightens. Only settings in the plan
 * are written; nothing is ever deleted except a Block Public Access configuration the record says was absent.
 * The exemption tags are added with S3 Control's TagResource, which leaves the other tags alone: PutBucketTagging
 * replaces the whole set, and S3 refuses it on a bucket carrying `aws:` system tags (every stack's bucket).
 */
import {
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectAclCommand,
  PutPublicAccessBlockCommand,
  Tag,
} from '@aws-sdk/client-s3';
import { PutAccessPointPolicyCommand, TagResourceCommand } from '@aws-sdk/client-s3-control';
import { BLOCK_PUBLIC_ACCESS_SETTINGS, judgeBlockPublicAccess } from '../exposure';
import { describeError } from '../remediation/aws-errors';
import { EXEMPTION_EXPIRES_TAG_KEY, EXEMPTION_REASON_TAG_KEY } from '../remediation/decide/exemption';
import { BucketAcl, expectedBucketOwner } from '../remediation/read/bucket-state';
import { bucketArnOf } from '../remediation/report/partition';
import { loosensBlockPublicAccess, RestorePlan, SettingChange } from './restore-diff';
import { RestoreRecord } from './restore-evidence';
import { LiveState, RestoreClients } from './restore-live';
import { ExemptionTags } from './restore-report';

/** What {@link applyRestore} writes. */
export interface ApplyInput {
  readonly clients: RestoreClients;
  readonly record: RestoreRecord;
  readonly live: LiveState;
  readonly plan: RestorePlan;
  readonly exemption?: ExemptionTags;
}

/** The write that failed: nothing after it was tried. */
export interface ApplyFailure {
  /** What it would have done, as {@link ApplyResult.applied} would list it. */
  readonly step: string;
  /** The setting it wrote, or `exemption` for the tags. */
  readonly setting: SettingChange['setting'] | 'exemption';
  /** AWS's error, in one line. */
  readonly reason: string;
}

/** What {@link applyRestore} did. */
export interface ApplyResult {
  /** What was done, in order. */
  readonly applied: string[];
  /** The first failed write; its effect is unknown (S3 may have applied it and lost the answer). */
  readonly failure?: ApplyFailure;
}

/**
 * Writes the plan, one call per setting, and stops at the first failed call.
 *
 * @returns what was done, in order, and the failed write if one failed; nothing after it is tried.
 * @example
 * const { applied, failure } = await applyRestore({ clients, record: evidence.record, live, plan, exemption });
 */
export async function applyRestore(input: ApplyInput): Promise<ApplyResult> {
  const applied: string[] = [];
  const step: Step = async (what, setting, call) => {
    try {
      await call();
    } catch (error) {
      throw new ApplyStopped({ step: what, setting, reason: describeError(error) });
    }
    applied.push(what);
  };
  try {
    await writeAll(input, step);
  } catch (error) {
    if (error instanceof ApplyStopped) return { applied, failure: error.failure };
    throw error;
  }
  return { applied };
}

/** Internal: carries a failed write out of the steps. */
class ApplyStopped extends Error {
  constructor(readonly failure: ApplyFailure) {
    super(failure.reason);
  }
}

async function writeAll(input: ApplyInput, step: Step): Promise<void> {
  if (input.exemption !== undefined) await writeExemption(input, input.exemption, step);
  const loosening = input.plan.changes.filter(loosensBlockPublicAccess);
  const ordered = [
    ...loosening,
    ...input.plan.changes.filter((change) => change.setting !== 'block-public-access'),
    ...input.plan.changes.filter(
      (change) => change.setting === 'block-public-access' && !loosensBlockPublicAccess(change),
    ),
  ];
  for (const change of ordered) await writeChange(input, change, step);
}

/**
 * Adds the two exemption tags. With the record's account, S3 Control's TagResource on the bucket ARN adds
 * or updates just those two and leaves the rest, `aws:` system tags included. Without an account (an old
 * record), PutBucketTagging writes the whole set back, which S3 refuses on a bucket with system tags.
 */
async function writeExemption(input: ApplyInput, exemption: ExemptionTags, step: Step): Promise<void> {
  const { record, clients } = input;
  const what = `tagged the bucket exempt until ${exemption.expires}`;
  const account = record.account;
  if (account !== undefined) {
    const control = clients.s3Control();
    await step(what, 'exemption', async () =>
      control.send(
        new TagResourceCommand({
          AccountId: account,
          ResourceArn: bucketArnOf(record.bucket, await control.config.region()),
          Tags: exemptionTags(exemption),
        }),
      ),
    );
    return;
  }
  await step(what, 'exemption', () =>
    clients.s3.send(
      new PutBucketTaggingCommand({
        Bucket: record.bucket,
        Tagging: { TagSet: withExemption(input.live.bucket.tags, exemption) },
      }),
    ),
  );
}

function exemptionTags(exemption: ExemptionTags): Tag[] {
  return [
    { Key: EXEMPTION_REASON_TAG_KEY, Value: exemption.reason },
    { Key: EXEMPTION_EXPIRES_TAG_KEY, Value: exemption.expires },
  ];
}

/**
 * The bucket's tags with the two exemption tags set (replacing earlier ones): PutBucketTagging replaces
 * every tag, so the others are written back unchanged.
 *
 * @example
 * withExemption([{ Key: 'team', Value: 'data' }], { reason: 'Open data SEC-1234', expires: '2027-01-31' });
 */
export function withExemption(tags: readonly Tag[], exemption: ExemptionTags): Tag[] {
  return [
    ...tags.filter((tag) => tag.Key !== EXEMPTION_REASON_TAG_KEY && tag.Key !== EXEMPTION_EXPIRES_TAG_KEY),
    ...exemptionTags(exemption),
  ];
}

type Step = (what: string, setting: ApplyFailure['setting'], call: () => Promise<unknown>) => Promise<void>;

async function writeChange(input: ApplyInput, change: SettingChange, step: Step): Promise<void> {
  const { record, clients } = input;
  const owner = expectedBucketOwner(record.account);
  switch (change.setting) {
    case 'block-public-access': {
      if (change.restored === null) {
        await step(
          'removed the bucket Block Public Access configuration (the record had none)',
          change.setting,
          () => clients.s3.send(new DeletePublicAccessBlockCommand({ Bucket: record.bucket, ...owner })),
        );
        return;
      }
      const settingsOn = judgeBlockPublicAccess(change.restored).settingsOn;
      const configuration = Object.fromEntries(
        BLOCK_PUBLIC_ACCESS_SETTINGS.map((setting) => [setting, settingsOn.includes(setting)]),
      );
      await step(
        `put back the bucket Block Public Access (${describeSettings(settingsOn)})`,
        change.setting,
        () =>
          clients.s3.send(
            new PutPublicAccessBlockCommand({
              Bucket: record.bucket,
              PublicAccessBlockConfiguration: configuration,
              ...owner,
            }),
          ),
      );
      return;
    }
    case 'policy':
      await step('put back the bucket policy', change.setting, () =>
        clients.s3.send(
          new PutBucketPolicyCommand({ Bucket: record.bucket, Policy: change.restored, ...owner }),
        ),
      );
      return;
    case 'acl':
      await step('put back the bucket ACL', change.setting, () =>
        clients.s3.send(
          new PutBucketAclCommand({
            Bucket: record.bucket,
            AccessControlPolicy: accessControlPolicy(change.restored, change.live),
            ...owner,
          }),
        ),
      );
      return;
    case 'access-point-policy':
      if (record.kind !== 'access-point') return;
      await step(`put back access point ${record.name}'s policy`, change.setting, () =>
        clients.s3Control().send(
          new PutAccessPointPolicyCommand({
            AccountId: record.account,
            Name: record.name,
            Policy: change.restored,
          }),
        ),
      );
      return;
    case 'object-acl':
      if (record.kind !== 'object-acl') return;
      await step(`put back object ${record.key}'s ACL`, change.setting, () =>
        clients.s3.send(
          new PutObjectAclCommand({
            Bucket: record.bucket,
            Key: record.key,
            VersionId: record.versionId,
            AccessControlPolicy: accessControlPolicy(change.restored, change.live),
            ...owner,
          }),
        ),
      );
      return;
  }
}

/** PutBucketAcl needs the owner; the record's, or the live one when the record has none. */
function accessControlPolicy(
  restored: BucketAcl,
  live: BucketAcl,
): { Owner?: BucketAcl['Owner']; Grants: NonNullable<BucketAcl['Grants']>[number][] } {
  return { Owner: restored.Owner ?? live.Owner, Grants: [...(restored.Grants ?? [])] };
}

function describeSettings(settingsOn: readonly string[]): string {
  return settingsOn.length === 0 ? 'all four off' : `on: ${settingsOn.join(', ')}`;
}
