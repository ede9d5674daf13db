export * from './organization-guardrails';
export * from './regional-hub';
export * from './member-guard-stack';
