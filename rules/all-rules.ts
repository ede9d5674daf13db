import { KMSPublicKeyPolicy } from './kms-public-key-policy';
import { RegistryGuardRule } from './rule';
import { S3BlockPublicAccess, S3BlockPublicAccessUnstated } from './s3-block-public-access';
import { S3DriftGuard } from './s3-drift-guard';
import { S3PublicAccessPoint } from './s3-public-access-point';
import { S3PublicAcl, S3PublicAclBlocked } from './s3-public-acl';
import { S3PublicPolicy, S3PublicPolicyBlocked } from './s3-public-policy';
import { S3RegistryAccessLogging } from './s3-registry-access-logging';
import { S3RegistryCdnOrigin } from './s3-registry-cdn-origin';
import { S3RegistryExternalAccess } from './s3-registry-external-access';
import { S3RegistryKmsEncryption } from './s3-registry-kms-encryption';
import { S3RegistryNoWebsite } from './s3-registry-no-website';
import { S3RegistryNoWildcardCors } from './s3-registry-no-wildcard-cors';
import { S3RegistryOwnershipEnforced } from './s3-registry-ownership-enforced';
import { S3RegistryRetained } from './s3-registry-retained';
import { S3RegistryTlsOnly } from './s3-registry-tls-only';
import { S3RegistryVersioning } from './s3-registry-versioning';

/** Every rule of the RegistryGuard pack, in the order findings are reported. */
export const REGISTRY_GUARD_RULES: readonly RegistryGuardRule[] = [
  S3PublicPolicy,
  S3PublicAcl,
  S3BlockPublicAccess,
  S3PublicPolicyBlocked,
  S3PublicAclBlocked,
  S3BlockPublicAccessUnstated,
  S3PublicAccessPoint,
  S3RegistryExternalAccess,
  KMSPublicKeyPolicy,
  S3RegistryKmsEncryption,
  S3RegistryTlsOnly,
  S3RegistryVersioning,
  S3RegistryAccessLogging,
  S3RegistryOwnershipEnforced,
  S3RegistryRetained,
  S3RegistryNoWebsite,
  S3RegistryNoWildcardCors,
  S3RegistryCdnOrigin,
  S3DriftGuard,
];

/** The rules that look at each resource type, so a resource is matched to its rules once. */
export function rulesByResourceType(
  rules: readonly RegistryGuardRule[] = REGISTRY_GUARD_RULES,
): ReadonlyMap<string, readonly RegistryGuardRule[]> {
  const byType = new Map<string, RegistryGuardRule[]>();
  for (const rule of rules) {
    for (const type of rule.resourceTypes) byType.set(type, [...(byType.get(type) ?? []), rule]);
  }
  return byType;
}
