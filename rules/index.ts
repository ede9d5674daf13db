export * from './all-rules';
export * from './rule';
export * from './template-model';
export * from './registry-guard-checks';
export * from './check-template';
