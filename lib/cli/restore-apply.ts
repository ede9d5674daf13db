/**
 * Writes a restore plan: the exemption tags first (so the guard, which hears every change, leaves the
 * bucket alone), then Block Public Access when it loosens (S3 refuses a public policy or ACL while it is
 * on), then the policy and ACLs, then Block Public Access when it only tightens. Only settings in the plan
 * are written; nothing is ever deleted except a Block Public Access configuration the record says was absent.
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
import { PutAccessPointPolicyCommand } from '@aws-sdk/client-s3-control';
import { BLOCK_PUBLIC_ACCESS_SETTINGS, judgeBlockPublicAccess } from '../exposure';
import { describeError } from '../remediation/aws-errors';
import { EXEMPTION_EXPIRES_TAG_KEY, EXEMPTION_REASON_TAG_KEY } from '../remediation/decide/exemption';
import { BucketAcl, expectedBucketOwner } from '../remediation/read/bucket-state';
import { loosensBlockPublicAccess, RestorePlan, SettingChange } from './restore-diff';
import { RestoreRecord } from './restore-evidence';
import { RestoreStop } from './restore-errors';
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

/**
 * Writes the plan, one call per setting.
 *
 * @returns what was done, in order.
 * @throws RestoreStop `aws` at the first failed call, naming what was already done; nothing after it is tried.
 * @example
 * const done = await applyRestore({ clients, record: evidence.record, live, plan, exemption });
 */
export async function applyRestore(input: ApplyInput): Promise<string[]> {
  const { record } = input;
  const done: string[] = [];
  const step = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (error) {
      throw new RestoreStop(
        'aws',
        `${record.bucket}: ${what} failed: ${describeError(error)}; already done: ${done.length === 0 ? 'nothing' : done.join('; ')}`,
      );
    }
    done.push(what);
  };
  if (input.exemption !== undefined) {
    const tags = withExemption(input.live.bucket.tags, input.exemption);
    await step(`tagged the bucket exempt until ${input.exemption.expires}`, () =>
      input.clients.s3.send(
        new PutBucketTaggingCommand({
          Bucket: record.bucket,
          Tagging: { TagSet: tags },
          ...expectedBucketOwner(record.account),
        }),
      ),
    );
  }
  const loosening = input.plan.changes.filter(loosensBlockPublicAccess);
  const ordered = [
    ...loosening,
    ...input.plan.changes.filter((change) => change.setting !== 'block-public-access'),
    ...input.plan.changes.filter(
      (change) => change.setting === 'block-public-access' && !loosensBlockPublicAccess(change),
    ),
  ];
  for (const change of ordered) await writeChange(input, change, step);
  return done;
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
    { Key: EXEMPTION_REASON_TAG_KEY, Value: exemption.reason },
    { Key: EXEMPTION_EXPIRES_TAG_KEY, Value: exemption.expires },
  ];
}

type Step = (what: string, call: () => Promise<unknown>) => Promise<void>;

async function writeChange(input: ApplyInput, change: SettingChange, step: Step): Promise<void> {
  const { record, clients } = input;
  const owner = expectedBucketOwner(record.account);
  switch (change.setting) {
    case 'block-public-access': {
      if (change.restored === null) {
        await step('removed the bucket Block Public Access configuration (the record had none)', () =>
          clients.s3.send(new DeletePublicAccessBlockCommand({ Bucket: record.bucket, ...owner })),
        );
        return;
      }
      const settingsOn = judgeBlockPublicAccess(change.restored).settingsOn;
      const configuration = Object.fromEntries(
        BLOCK_PUBLIC_ACCESS_SETTINGS.map((setting) => [setting, settingsOn.includes(setting)]),
      );
      await step(`put back the bucket Block Public Access (${describeSettings(settingsOn)})`, () =>
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
      await step('put back the bucket policy', () =>
        clients.s3.send(
          new PutBucketPolicyCommand({ Bucket: record.bucket, Policy: change.restored, ...owner }),
        ),
      );
      return;
    case 'acl':
      await step('put back the bucket ACL', () =>
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
      await step(`put back access point ${record.name}'s policy`, () =>
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
      await step(`put back object ${record.key}'s ACL`, () =>
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
