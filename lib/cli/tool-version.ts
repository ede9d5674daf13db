import * as fs from 'fs';
import * as path from 'path';

/** What the CLI reads of its own package.json. */
interface ToolManifest {
  readonly version?: unknown;
  readonly repository?: unknown;
}

/** This package's package.json: the nearest one named registry-guard above this file. */
function toolManifest(): ToolManifest | undefined {
  let directory = __dirname;
  for (let level = 0; level < 6; level += 1) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8')) as {
        name?: string;
      } & ToolManifest;
      if (manifest.name === 'registry-guard') return manifest;
    } catch {
      // No package.json here: keep climbing.
    }
    directory = path.dirname(directory);
  }
  return undefined;
}

/** This package's version, read from the nearest package.json named registry-guard above this file. */
export function toolVersion(): string {
  const version = toolManifest()?.version;
  return typeof version === 'string' ? version : '0.0.0';
}

/**
 * The web address of this package's repository (package.json `repository`), e.g.
 * `https://github.com/registry-guard/registry-guard`; undefined when it names none that a browser can open.
 */
export function toolRepositoryUrl(): string | undefined {
  const repository = toolManifest()?.repository;
  const url =
    typeof repository === 'string' ? repository : (repository as { url?: unknown } | undefined)?.url;
  if (typeof url !== 'string') return undefined;
  const web = url
    .replace(/^git\+/, '')
    .replace(/^github:/, 'https://github.com/')
    .replace(/^git@github\.com:/, 'https://github.com/')
    .replace(/\.git$/, '');
  return web.startsWith('https://') ? web : undefined;
}
