/**
 * Tag key that marks a bucket as holding a sensitive registry. The nag pack, the CLI and the
 * remediation Lambda all recognise registry buckets by this exact key and value.
 */
export const REGISTRY_CLASSIFICATION_TAG_KEY = 'registry-guard:classification';

/** Tag value that, with {@link REGISTRY_CLASSIFICATION_TAG_KEY}, marks a sensitive registry bucket. */
export const REGISTRY_CLASSIFICATION_TAG_VALUE = 'sensitive-registry';
