/**
 * Tag key that marks a bucket as holding a sensitive registry. The nag pack, the CLI and the
 * remediation Lambda all recognise registry buckets by this exact key and value.
 */
export const REGISTRY_CLASSIFICATION_TAG_KEY = 'registry-guard:classification';

/** Tag value that, with {@link REGISTRY_CLASSIFICATION_TAG_KEY}, marks a sensitive registry bucket. */
export const REGISTRY_CLASSIFICATION_TAG_VALUE = 'sensitive-registry';

/**
 * True when a tag classifies its bucket as a registry. Key and value are compared without regard to case or
 * surrounding spaces: `Sensitive-Registry` is a registry's owner writing it differently, never an ordinary
 * bucket, and reading more buckets as registries only ever holds more of them to the strict rules.
 *
 * @example
 * isRegistryClassificationTag('registry-guard:classification', ' Sensitive-Registry '); // true
 */
export function isRegistryClassificationTag(key: string | undefined, value: string | undefined): boolean {
  return (
    key?.trim().toLowerCase() === REGISTRY_CLASSIFICATION_TAG_KEY &&
    value?.trim().toLowerCase() === REGISTRY_CLASSIFICATION_TAG_VALUE
  );
}

/**
 * Metadata key on the Config rule of a `PublicAccessGuard`: how the nag pack and the CLI tell that an app
 * deploys the drift guard, in a construct tree or in synthesized templates alike.
 */
export const GUARD_MARKER_METADATA_KEY = 'registry-guard:component';

/** Value of {@link GUARD_MARKER_METADATA_KEY} on the guard's Config rule. */
export const GUARD_MARKER_METADATA_VALUE = 'PublicAccessGuard';

/**
 * CloudFormation resource type of the custom resource through which a `PublicAccessGuard` turns on the
 * account's Block Public Access at deploy time. The guard's own handler serves it, so the account setting is
 * read, recorded as evidence and only ever turned on, exactly as when the guard restores it after drift.
 */
export const ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE = 'Custom::RegistryGuardAccountBlockPublicAccess';

/**
 * Metadata key on a registry bucket's `AWS::S3::Bucket`: the accounts its zone of trust holds besides the
 * template's own (`AWS::AccountId`), as a list of 12-digit ids. Written by `SensitiveRegistryBucket` from
 * `trustedAccountIds` (and the stack's account when the stack names one); read by
 * `RegistryGuard-S3RegistryExternalAccess` in the pack and the CLI alike, which see only the template.
 * Metadata rather than a tag: it cannot be changed after deployment by whoever may tag the bucket, and holds
 * more accounts than a 256-character tag value.
 */
export const TRUSTED_ACCOUNTS_METADATA_KEY = 'registry-guard:trusted-account-ids';
