/**
 * What the guard's role needs for Security Hub findings (`securityHubFindings`), and nothing when it is off:
 * importing findings into the account's own default integration, and, in remediate mode, resolving them
 * when their bucket is found closed, with the records of open findings that makes possible.
 */
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EVIDENCE_PREFIXES, GuardMode } from '../guard-facts';
import { SensitiveRegistryBucket } from '../sensitive-registry-bucket';

/**
 * Fields of a finding BatchUpdateFindings could change besides the workflow and its note: a request that
 * names any of them is not allowed (a key that is absent satisfies `Null: true`).
 */
const FIELDS_NEVER_UPDATED = [
  'Confidence',
  'Criticality',
  'RelatedFindings',
  'Severity.Label',
  'Severity.Normalized',
  'Severity.Original',
  'Types',
  'UserDefinedFields',
  'VerificationState',
];

/**
 * Grants, on the role:
 * - `securityhub:BatchImportFindings` on the product ARN of the account's default integration
 *   (`product/<account>/default`), for findings of this account only (`securityhub:TargetAccount`);
 * - in remediate mode, `securityhub:BatchUpdateFindings` on the account's hub, allowed only when the request
 *   sets the workflow to RESOLVED and changes no other field but the note (IAM cannot scope it to one
 *   product's findings); and reading and deleting the records of open findings under
 *   `_security-hub-findings/` of the evidence bucket (writing them is WriteEvidence's).
 *
 * @example
 * grantSecurityHubFindings(role, mode, evidenceBucket);
 */
export function grantSecurityHubFindings(
  role: iam.Role,
  mode: GuardMode,
  evidenceBucket: SensitiveRegistryBucket,
): void {
  const stack = Stack.of(role);
  const securityHubArn = (resource: string): string =>
    `arn:${stack.partition}:securityhub:${stack.region}:${stack.account}:${resource}`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ImportSecurityHubFindings',
      actions: ['securityhub:BatchImportFindings'],
      resources: [securityHubArn(`product/${stack.account}/default`)],
      conditions: { StringEquals: { 'securityhub:TargetAccount': stack.account } },
    }),
  );
  if (mode !== GuardMode.REMEDIATE) return;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ResolveSecurityHubFindings',
      actions: ['securityhub:BatchUpdateFindings'],
      resources: [securityHubArn('hub/default')],
      conditions: {
        StringEquals: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'RESOLVED' },
        Null: Object.fromEntries(
          FIELDS_NEVER_UPDATED.map((field) => [`securityhub:ASFFSyntaxPath/${field}`, 'true']),
        ),
      },
    }),
  );
  const prefix = EVIDENCE_PREFIXES.securityHubFindings;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TrackSecurityHubFindings',
      actions: ['s3:GetObject', 's3:DeleteObject'],
      resources: [evidenceBucket.bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  // The finding names the bucket by its logical id, which only the stack can tell.
  const evidenceId = stack.getLogicalId(evidenceBucket.bucket.node.defaultChild as CfnElement);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${evidenceId}.Arn>/${prefix}*]`,
    reason: `One record per open Security Hub finding, named by bucket and kind under ${prefix}: the guard reads it back to resolve the finding and deletes it once resolved; it reads and deletes nothing else there.`,
  });
}
