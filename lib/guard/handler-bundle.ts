/**
 * The guard's Lambda handler as one self-contained file (index.js exporting `handler`, the AWS SDK inside),
 * with Security Hub's SDK beside it in a file of its own (security-hub-sdk.js).
 *
 * An installed package ships it prebuilt in dist/handler (`npm run build` runs scripts/build-handler.ts), so
 * a consumer's synth needs neither esbuild nor Docker. Run from this repository's TypeScript sources (tests,
 * `cdk synth` of bin/app.ts), it is built here with esbuild, a devDependency, into a cache keyed by the
 * sources, and rebuilt when they change.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type * as esbuild from 'esbuild';

/** The bundle's file name; the Lambda handler is `index.handler`. */
export const HANDLER_BUNDLE_FILE = 'index.js';
/**
 * Security Hub's SDK, bundled on its own beside index.js: index.js requires it (`./security-hub-sdk`, from
 * lib/remediation/sdk/on-demand.ts) only when findings are on and a run has one to send. Its models are
 * about a fifth of the handler's size, which every cold start would otherwise parse. The name is the one
 * import path nothing else in lib/ uses: esbuild leaves every import written so to Node.
 */
export const SECURITY_HUB_BUNDLE_FILE = 'security-hub-sdk.js';

/** Where the prebuilt bundle sits beside the compiled construct: dist/lib/guard → dist/handler. */
const PREBUILT_DIRECTORY = path.join(__dirname, '..', '..', 'handler');

/**
 * The handler's TypeScript entry; present only in this repository, not in the installed package. Not the
 * package barrel (index.ts), whose re-exports would all be evaluated when Lambda loads the bundle.
 */
const SOURCE_ENTRY = path.join(__dirname, '..', 'remediation', 'entry.ts');
/** The entry of {@link SECURITY_HUB_BUNDLE_FILE}. */
const SECURITY_HUB_ENTRY = path.join(__dirname, '..', 'remediation', 'sdk', 'security-hub-sdk.ts');

/** What the bundle is built from besides the handler: the library's sources, which the handler imports. */
const SOURCE_ROOT = path.join(__dirname, '..');

/** The repository root when running from sources: lib/guard → the root, whose node_modules holds the cache. */
const REPOSITORY_ROOT = path.join(__dirname, '..', '..');

/**
 * The esbuild options of the bundle, one source for the package build and the on-the-fly build: Node.js 22
 * (the function's runtime), CommonJS, minified, and the AWS SDK bundled, since the handler is tested
 * against the versions in package-lock.json. Packages resolve to their ES module builds, which esbuild can
 * tree-shake: of each SDK client only the commands the guard sends are kept (830 KB instead of 1,041 KB
 * from their CommonJS builds, so less to parse and evaluate on a cold start). Licence comments stay
 * (esbuild moves them to the end): the tarball redistributes the bundled packages.
 *
 * @example
 * esbuild.buildSync(handlerBundleOptions('dist/handler/index.js'));
 */
export function handlerBundleOptions(outfile: string, entry: string = SOURCE_ENTRY): esbuild.BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    // Left to Node at run time: the file of that name beside index.js (SECURITY_HUB_BUNDLE_FILE).
    external: ['./security-hub-sdk'],
    logLevel: 'warning',
  };
}

/**
 * Builds the handler's files into `directory`: index.js and, beside it, {@link SECURITY_HUB_BUNDLE_FILE}.
 *
 * @example
 * buildHandlerBundles(esbuild.buildSync, 'dist/handler');
 */
export function buildHandlerBundles(build: typeof esbuild.buildSync, directory: string): void {
  build(handlerBundleOptions(path.join(directory, HANDLER_BUNDLE_FILE)));
  build(handlerBundleOptions(path.join(directory, SECURITY_HUB_BUNDLE_FILE), SECURITY_HUB_ENTRY));
}

/**
 * The directory to give `Code.fromAsset`: the prebuilt bundle of the installed package, or, from this
 * repository's sources, a bundle built now (or earlier, from the same sources) in
 * node_modules/.cache/registry-guard-handler/<hash of lib/ and package-lock.json>.
 *
 * @example
 * lambda.Code.fromAsset(handlerCodeDirectory());
 */
export function handlerCodeDirectory(): string {
  if (fs.existsSync(path.join(PREBUILT_DIRECTORY, HANDLER_BUNDLE_FILE))) return PREBUILT_DIRECTORY;
  if (!fs.existsSync(SOURCE_ENTRY)) {
    throw new Error(
      `PublicAccessGuard: the prebuilt Lambda handler ${path.join(PREBUILT_DIRECTORY, HANDLER_BUNDLE_FILE)} ` +
        'is missing from the installed registry-guard package; reinstall the package, or run `npm run build` in ' +
        'a checkout of it.',
    );
  }
  return cachedSourceBundle();
}

/** Builds the bundle from the sources into the cache unless a build of the same sources is already there. */
function cachedSourceBundle(): string {
  const cacheRoot = path.join(REPOSITORY_ROOT, 'node_modules', '.cache', 'registry-guard-handler');
  const directory = path.join(cacheRoot, sourceHash());
  if (fs.existsSync(path.join(directory, HANDLER_BUNDLE_FILE))) return directory;
  // Build beside the final directory and rename it into place, so that parallel test workers never see a
  // half-written bundle: the first rename wins, the others drop their copy.
  const staging = `${directory}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(staging, { recursive: true });
  try {
    buildHandlerBundles(loadEsbuild().buildSync, staging);
    fs.renameSync(staging, directory);
  } catch (error) {
    if (!fs.existsSync(path.join(directory, HANDLER_BUNDLE_FILE))) throw error;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return directory;
}

/** esbuild, a devDependency: present in this repository, never needed by an installed package. */
function loadEsbuild(): typeof esbuild {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('esbuild') as typeof esbuild;
  } catch (error) {
    throw new Error(
      `PublicAccessGuard: building the Lambda handler from ${SOURCE_ENTRY} needs esbuild (npm install): ` +
        `${(error as Error).message}`,
    );
  }
}

/** A hash of everything the bundle is made of: the lib/ sources, the locked dependency versions, the options. */
function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  for (const file of sourceFiles(SOURCE_ROOT)) {
    hash.update(path.relative(SOURCE_ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  const lockFile = path.join(REPOSITORY_ROOT, 'package-lock.json');
  if (fs.existsSync(lockFile)) hash.update(fs.readFileSync(lockFile));
  hash.update(JSON.stringify(handlerBundleOptions(HANDLER_BUNDLE_FILE)));
  return hash.digest('hex').slice(0, 32);
}

/** The TypeScript and JSON files under a directory, in a stable order. */
function sourceFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const file = path.join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(file);
      return /\.(ts|json)$/.test(entry.name) ? [file] : [];
    });
}
