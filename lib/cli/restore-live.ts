/**
 * Reads what a restore would change as it is now, with the real SDK, and whether the bucket is a registry.
 * Every call on the bucket names the record's account as the expected owner, so a bucket of the same name
 * in another account is refused by S3 instead of restored.
 */
import { GetObjectAclCommand, S3Client, Tag } from '@aws-sdk/client-s3';
import {
  GetAccessPointCommand,
  GetAccessPointPolicyCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { isRegistryClassificationTag, REGISTRY_CLASSIFICATION_TAG_KEY } from '../classification';
import { describeError, errorName } from '../remediation/aws-errors';
import {
  BucketAcl,
  expectedBucketOwner,
  LiveBucketState,
  readBucketState,
  readOwnership,
} from '../remediation/read/bucket-state';
import { RegistryLedger } from '../remediation/read/registry-ledger';
import { RestoreRecord } from './restore-evidence';
import { RestoreStop } from './restore-errors';

/** Whether the bucket counts as a registry, and every reason it does. Empty reasons: an ordinary bucket. */
export interface RegistryStatus {
  readonly isRegistry: boolean;
  readonly reasons: readonly string[];
}

/** An access point as S3 Control reports it now. */
export interface LiveAccessPoint {
  readonly bucket: string;
  readonly networkOrigin: 'Internet' | 'VPC';
  /** The policy text; undefined when it has none. */
  readonly policy?: string;
}

/** The live settings a record could change, and the bucket's classification. */
export interface LiveState {
  readonly bucket: LiveBucketState;
  /** `BucketOwnerEnforced` disables ACLs: they can then be neither judged nor written. */
  readonly aclsDisabled: boolean;
  readonly registry: RegistryStatus;
  /** Read for access point records only. */
  readonly accessPoint?: LiveAccessPoint;
  /** Read for object ACL records only. */
  readonly objectAcl?: BucketAcl;
}

/** The clients a restore uses. S3 Control is built only for an access point record. */
export interface RestoreClients {
  readonly s3: S3Client;
  readonly s3Control: () => S3ControlClient;
}

/**
 * Reads the bucket (tags, policy, ACL, Block Public Access, object ownership), the registry ledger in the
 * evidence bucket, and the access point or object the record names.
 *
 * @throws RestoreStop `aws` when a read fails or the bucket is gone; `evidence-refused` when the access point
 *   now opens another bucket.
 * @example
 * const live = await readLiveState(clients, evidence.record, 'guard-evidence');
 * live.registry.isRegistry; // false for an ordinary bucket
 */
export async function readLiveState(
  clients: RestoreClients,
  record: RestoreRecord,
  evidenceBucket: string,
): Promise<LiveState> {
  const [reading, ownership, ledger] = await Promise.all([
    readBucketState(clients.s3, record.bucket, record.account),
    readOwnership(clients.s3, record.bucket, record.account),
    new RegistryLedger(clients.s3, evidenceBucket).read(record.bucket),
  ]);
  if (reading.status === 'missing') {
    throw new RestoreStop(
      'aws',
      `${record.bucket}: NoSuchBucket: the bucket no longer exists; nothing to restore`,
    );
  }
  if (reading.status === 'unreadable') {
    throw new RestoreStop('aws', `${record.bucket}: ${reading.operation} failed: ${reading.error}`);
  }
  if (ownership.status === 'unreadable') {
    throw new RestoreStop('aws', `${record.bucket}: ${ownership.operation} failed: ${ownership.error}`);
  }
  const reasons: string[] = [];
  if (record.registryBucket === true) reasons.push('the record says the guard judged it a registry');
  if (reading.state.tags.some((tag: Tag) => isRegistryClassificationTag(tag.Key, tag.Value))) {
    reasons.push(`it is tagged ${REGISTRY_CLASSIFICATION_TAG_KEY} as a registry`);
  }
  if (ledger.status === 'known')
    reasons.push(`the guard's registry ledger has known it as one since ${ledger.since}`);
  // A ledger that cannot be read cannot prove the bucket was never a registry: held as one, never looser.
  if (ledger.status === 'unreadable') reasons.push(`its registry ledger could not be read (${ledger.error})`);
  return {
    bucket: reading.state,
    aclsDisabled: ownership.status === 'found' && ownership.objectOwnership === 'BucketOwnerEnforced',
    registry: { isRegistry: reasons.length > 0, reasons },
    accessPoint:
      record.kind === 'access-point'
        ? await readAccessPoint(clients.s3Control(), record.account, record.name, record.bucket)
        : undefined,
    objectAcl:
      record.kind === 'object-acl'
        ? await readObjectAcl(clients.s3, record.bucket, record.key, record.versionId, record.account)
        : undefined,
  };
}

async function readAccessPoint(
  s3Control: S3ControlClient,
  account: string,
  name: string,
  bucket: string,
): Promise<LiveAccessPoint> {
  let description;
  let policy: string | undefined;
  try {
    description = await s3Control.send(new GetAccessPointCommand({ AccountId: account, Name: name }));
    policy = await s3Control
      .send(new GetAccessPointPolicyCommand({ AccountId: account, Name: name }))
      .then((output) => (output.Policy === '' ? undefined : output.Policy))
      .catch((error: unknown) => {
        if (errorName(error) === 'NoSuchAccessPointPolicy') return undefined;
        throw error;
      });
  } catch (error) {
    throw new RestoreStop('aws', `access point ${name}: reading it failed: ${describeError(error)}`);
  }
  if (description.Bucket !== bucket) {
    throw new RestoreStop(
      'evidence-refused',
      `access point ${name}: refused: it now opens bucket ${description.Bucket ?? 'unknown'}, not ${bucket} as the record says (it was deleted and created again)`,
    );
  }
  // Anything but an explicit VPC origin is judged internet-facing: never looser.
  return { bucket, networkOrigin: description.NetworkOrigin === 'VPC' ? 'VPC' : 'Internet', policy };
}

async function readObjectAcl(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
  account: string | undefined,
): Promise<BucketAcl> {
  try {
    const output = await s3.send(
      new GetObjectAclCommand({
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        ...expectedBucketOwner(account),
      }),
    );
    return { Owner: output.Owner, Grants: output.Grants ?? [] };
  } catch (error) {
    throw new RestoreStop('aws', `s3://${bucket}/${key}: GetObjectAcl failed: ${describeError(error)}`);
  }
}
