#!/usr/bin/env node
// The organization example: `npx cdk synth --app 'npx tsx bin/organization.ts'`. Placeholder ids: replace
// the account, organization and OU ids with yours (docs/organization.md). Synthesis fails on any
// unacknowledged RegistryGuard or AwsSolutions finding, as in the single-account app.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OrganizationGuardrails } from '../lib/organization/organization-guardrails';
import { RegistryGuardChecks } from '../rules/registry-guard-checks';

const app = new App();
const stack = new Stack(app, 'RegistryGuardOrganization', {
  env: { account: '111111111111', region: 'eu-west-1' },
  description: 'registry-guard: guards every account of the chosen organizational units',
});
new OrganizationGuardrails(stack, 'Guardrails', {
  organizationId: 'o-exampleorg1',
  organizationalUnits: ['ou-exam-11111111', 'ou-exam-22222222'],
  regions: ['eu-west-1', 'eu-central-1'],
});
Validations.of(app).addPlugins(
  new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true }),
  new AwsSolutionsChecks(app),
);
app.synth();
