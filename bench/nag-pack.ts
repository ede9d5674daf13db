/**
 * The nag pack inside a CDK app: validation time of RegistryGuardChecks beside cdk-nag's AwsSolutionsChecks
 * on stacks of N hardened buckets (L2 s3.Bucket with a bucket policy each). RegistryGuard indexes each
 * stack once; AwsSolutions' S3 rules scan the stack per bucket, so its time grows with N².
 */
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RegistryGuardChecks } from '../rules/registry-guard-checks';

function appOf(buckets: number): App {
  // Past CloudFormation's 500-resource limit only to measure growth; such a stack would not deploy.
  const app = new App({ context: { '@aws-cdk/core:stackResourceLimit': 0 } });
  const stack = new Stack(app, 'Buckets');
  Validations.of(stack).acknowledge({
    id: 'CloudFormation-Validate::F0007',
    reason: 'Oversized on purpose: a benchmark.',
  });
  const logs = new s3.Bucket(stack, 'Logs', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (let position = 0; position < buckets; position += 1) {
    new s3.Bucket(stack, `Bucket${position}`, {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
  app.synth();
  return app;
}

function timeValidation(run: () => unknown): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function benchNagPack(sizes: readonly number[]): void {
  console.log(
    '\nValidation inside a CDK app (one stack, L2 buckets with policies; validateScope only, synth excluded)',
  );
  console.log('| buckets | RegistryGuardChecks | AwsSolutionsChecks |');
  console.log('| ---: | ---: | ---: |');
  for (const size of sizes) {
    const app = appOf(size);
    // Warm both packs once so the figures compare steady-state code, not first-call compilation.
    new RegistryGuardChecks().validateScope(app);
    new AwsSolutionsChecks().validateScope(app);
    const registryGuard = timeValidation(() => new RegistryGuardChecks().validateScope(app));
    const awsSolutions = timeValidation(() => new AwsSolutionsChecks().validateScope(app));
    console.log(
      `| ${size.toLocaleString('en')} | ${registryGuard.toFixed(0)} ms | ${awsSolutions.toFixed(0)} ms |`,
    );
  }
}

if (require.main === module) benchNagPack([100, 200, 400, 800]);
