#!/usr/bin/env node
// The example CDK app: `npx cdk synth`. Synthesis fails on any unacknowledged RegistryGuard or
// AwsSolutions finding, so the kit's own stacks are held to the rules they ship.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ElectoralRollStack } from '../lib/example/electoral-roll-stack';
import { RegistryGuardChecks } from '../rules/registry-guard-checks';

const app = new App();
new ElectoralRollStack(app, 'ElectoralRoll');
Validations.of(app).addPlugins(
  // Acknowledgements are written into the templates so `registry-guard check cdk.out` honours them too.
  new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true }),
  new AwsSolutionsChecks(app),
);
app.synth();
