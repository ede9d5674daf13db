#!/usr/bin/env node
// The CLI entry: thin on purpose. It loads only the rules and the judgement, never aws-cdk-lib,
// so checking a template costs little more than parsing it.
import { runCliAsync } from '../lib/cli/run-cli';
import { toolVersion } from '../lib/cli/tool-version';

const colourAllowed = process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

// `check` finishes synchronously inside runCliAsync; `restore` awaits AWS. Neither rejects.
void runCliAsync(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTty: Boolean(process.stdout.isTTY) && colourAllowed,
  version: toolVersion(),
}).then((code) => {
  process.exitCode = code;
});
