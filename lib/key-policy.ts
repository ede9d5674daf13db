/**
 * Key-policy statements every key the kit creates carries: grants only for AWS resources, and cryptographic
 * use only through the services the key exists for. Deny statements, so they hold whatever the IAM policies
 * of the account's principals allow, and the key's administrators keep managing it through the account's
 * own statement.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/** The operations that encrypt or decrypt data, as opposed to managing the key. */
export const KEY_CRYPTO_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
] as const;

/** The AWS services a key is used through, by endpoint prefix: `s3`, `sns`, `sqs`, `logs`. */
export type KeyService = 's3' | 'sns' | 'sqs' | 'logs';

/**
 * Adds the two denials to the key's policy:
 *
 * - `DenyGrantsExceptForAwsResources`: nobody creates a grant on the key unless it is for an AWS resource
 *   or the caller is an AWS service (AWS Control Tower control CT.KMS.PR.3). A grant is a second way to use
 *   the key that its policy does not show; none of the services named here needs one.
 * - `DenyUseExceptThroughServices`: principals of the account encrypt and decrypt only through the named
 *   services of the key's Region (`kms:ViaService`), never by calling KMS themselves; AWS service principals
 *   acting as themselves (CloudWatch alarms, log delivery, EventBridge) are not concerned, their own Allow
 *   statements scope them.
 *
 * @example
 * tieKeyToServices(registryKey, ['s3']);
 */
export function tieKeyToServices(key: kms.Key, services: readonly KeyService[]): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyUseExceptThroughServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...KEY_CRYPTO_ACTIONS],
      resources: ['*'],
      conditions: {
        // Negated: a direct call carries no kms:ViaService and is denied.
        StringNotEquals: {
          'kms:ViaService': services.map((service) => `${service}.${stack.region}.${stack.urlSuffix}`),
        },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}
