/**
 * Builds the guard's Lambda handler into dist/handler/index.js, one self-contained file (the AWS SDK
 * included) that the package ships and PublicAccessGuard deploys with `Code.fromAsset`, so a consumer's
 * synth needs neither esbuild nor Docker. Run by `npm run build` after tsc.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { buildSync } from 'esbuild';
import {
  buildHandlerBundles,
  HANDLER_BUNDLE_FILE,
  SECURITY_HUB_BUNDLE_FILE,
} from '../lib/guard/handler-bundle';

const OUT_DIRECTORY = path.resolve(__dirname, '..', 'dist', 'handler');

function main(): void {
  // Only the handler's files: everything in the directory becomes the Lambda's code.
  fs.rmSync(OUT_DIRECTORY, { recursive: true, force: true });
  buildHandlerBundles(buildSync, OUT_DIRECTORY);
  for (const file of [HANDLER_BUNDLE_FILE, SECURITY_HUB_BUNDLE_FILE]) {
    const outfile = path.join(OUT_DIRECTORY, file);
    const contents = fs.readFileSync(outfile);
    console.log(
      `build-handler: ${path.relative(process.cwd(), outfile)} ${(contents.length / 1024).toFixed(0)} KB ` +
        `(${(zlib.gzipSync(contents).length / 1024).toFixed(0)} KB gzip)`,
    );
  }
}

main();
