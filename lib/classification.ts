/**
 * Tag key that marks a bucket as holding a sensitive registry. The nag pack, the CLI and the
 * remediation Lambda all recognise registry buckets by this exact key and value.
 */
export const REGISTRY_CLASSIFICATION_TAG_KEY = 'registry-guard:classification';

/** Tag value that, with {@link REGISTRY_CLASSIFICATION_TAG_KEY}, marks a sensitive registry bucket. */
export const REGISTRY_CLASSIFICATION_TAG_VALUE = 'sensitive-registry';

/**
 * Metadata key on the Config rule of a `PublicAccessGuard`: how the nag pack and the CLI tell that an app
 * deploys the drift guard, in a construct tree or in synthesized templates alike.
 */
export const GUARD_MARKER_METADATA_KEY = 'registry-guard:component';

/** Value of {@link GUARD_MARKER_METADATA_KEY} on the guard's Config rule. */
export const GUARD_MARKER_METADATA_VALUE = 'PublicAccessGuard';
