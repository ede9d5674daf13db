/**
 * What code scanning shows beside a rule: how severe its findings are, and where its documentation is.
 * docs/rules.md carries the same severities in its tables and a heading per rule; a test keeps them equal.
 */
import { RegistryGuardRule, RuleLevel, ruleId } from '../../rules/rule';

/** The rule reference, relative to the repository root. */
export const RULES_REFERENCE_PATH = 'docs/rules.md';

/**
 * Each rule's `security-severity` for GitHub code scanning, a CVSS-like score as a string: 9.0 and above shows
 * as critical, 7.0-8.9 high, 4.0-6.9 medium, below 4.0 low. Why each score is documented in docs/rules.md
 * (Severity in code scanning).
 */
export const SECURITY_SEVERITY: Readonly<Record<string, string>> = {
  // Anyone on the internet can read the bucket, or the registry behind a door to it.
  'RegistryGuard-S3PublicPolicy': '9.8',
  'RegistryGuard-S3PublicAcl': '9.8',
  'RegistryGuard-S3PublicAccessPoint': '9.1',
  'RegistryGuard-S3RegistryCdnOrigin': '9.1',
  // One account or one change away from a leak.
  'RegistryGuard-S3RegistryExternalAccess': '8.1',
  'RegistryGuard-S3BlockPublicAccess': '7.5',
  'RegistryGuard-KMSPublicKeyPolicy': '7.4',
  // The registry baseline: controls whose absence loses or leaks data only with another failure.
  'RegistryGuard-S3RegistryRetained': '6.5',
  'RegistryGuard-S3RegistryOwnershipEnforced': '6.1',
  'RegistryGuard-S3RegistryTlsOnly': '5.9',
  'RegistryGuard-S3RegistryVersioning': '5.4',
  'RegistryGuard-S3RegistryKmsEncryption': '5.3',
  'RegistryGuard-S3RegistryNoWebsite': '5.3',
  'RegistryGuard-S3DriftGuard': '4.7',
  'RegistryGuard-S3RegistryAccessLogging': '4.3',
  // Warnings that grant nothing by themselves.
  'RegistryGuard-S3PublicPolicyBlocked': '3.7',
  'RegistryGuard-S3PublicAclBlocked': '3.7',
  'RegistryGuard-S3RegistryNoWildcardCors': '3.1',
  'RegistryGuard-S3BlockPublicAccessUnstated': '2.6',
};

/** A rule without a score of its own (a rule added later): high for an error, medium for a warning. */
const DEFAULT_SECURITY_SEVERITY: Readonly<Record<RuleLevel, string>> = {
  [RuleLevel.ERROR]: '7.0',
  [RuleLevel.WARNING]: '4.0',
};

/** The rule's `security-severity`. */
export function securitySeverityOf(rule: RegistryGuardRule): string {
  return SECURITY_SEVERITY[ruleId(rule)] ?? DEFAULT_SECURITY_SEVERITY[rule.level];
}

/**
 * The anchor of the rule's heading in docs/rules.md as GitHub renders it: the heading is the rule id, and
 * GitHub lowercases a heading made of letters, digits and dashes and keeps it otherwise.
 */
export function ruleAnchor(rule: RegistryGuardRule): string {
  return ruleId(rule).toLowerCase();
}

/** The rule's documentation in the repository: `<repository>/blob/HEAD/docs/rules.md#<anchor>`. */
export function ruleHelpUri(repositoryUrl: string, rule: RegistryGuardRule): string {
  return `${repositoryUrl}/blob/HEAD/${RULES_REFERENCE_PATH}#${ruleAnchor(rule)}`;
}
