import { judgePolicy } from '../lib/exposure';
import { RegistryGuardRule, RuleLevel } from './rule';

/** Every KMS key: its key policy must not grant to the public. */
export const KMSPublicKeyPolicy: RegistryGuardRule = {
  name: 'KMSPublicKeyPolicy',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::KMS::Key', 'AWS::KMS::ReplicaKey'],
  info: 'The KMS key policy grants access to the public.',
  explanation:
    'Whoever can use the key that encrypts a registry can decrypt what they copy out of it. Grant key use to fixed ' +
    'principals, or limit "*" with a fixed kms:CallerAccount, aws:PrincipalOrgID or aws:SourceVpce condition.',
  check(key, index) {
    return judgePolicy(key.properties.KeyPolicy, { kind: 'kmsKey', context: index }).publicStatements.map(
      (statement) => `key policy ${statement.label}: ${statement.reason}`,
    );
  },
};
