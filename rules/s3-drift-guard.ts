import { registryBucketRule } from './registry-rule';
import { RuleLevel } from './rule';

/** Registry buckets: some stack of the app deploys a PublicAccessGuard, so drift is closed, not just prevented. */
export const S3DriftGuard = registryBucketRule({
  name: 'S3DriftGuard',
  level: RuleLevel.WARNING,
  info: 'The app holds a registry bucket but deploys no PublicAccessGuard.',
  explanation:
    'These rules stop a bucket from being created open; only the drift guard closes one that a console click, ' +
    "a script or a compromised role opens later. Add `new PublicAccessGuard(stack, 'Guard')` to one stack of " +
    "the app (or acknowledge this rule where the account's guard is deployed by another app).",
  checkRegistry(_bucket, _index, app) {
    return app.hasPublicAccessGuard ? [] : ['no PublicAccessGuard is deployed in this app'];
  },
});
