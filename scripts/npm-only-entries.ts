/**
 * Keeps the CLI out of the jsii assembly. jsii copies package.json's `bin` into .jsii, and jsii-pacmak turns
 * each bin into a script of the Python package (and of the others) that runs it through the jsii runtime.
 * The CLI is npm-only: it needs the `yaml` package, which the jsii runtime does not install, so such a
 * script would fail. Its types are not in the assembly (nothing in lib/index.ts reaches lib/cli or
 * lib/remediation); this drops the bin, with @jsii/spec's `replaceAssembly`, the way tools that edit an
 * assembly after jsii do (it marks the fingerprint as edited). Run by `npm run build` after jsii.
 */
import * as path from 'path';
import { loadAssemblyFromPath, replaceAssembly } from '@jsii/spec';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');

function main(): void {
  const assembly = loadAssemblyFromPath(REPOSITORY_ROOT);
  if (assembly.bin === undefined) return;
  delete assembly.bin;
  replaceAssembly(assembly, REPOSITORY_ROOT);
  console.log('npm-only-entries: dropped the CLI (bin) from .jsii');
}

main();
