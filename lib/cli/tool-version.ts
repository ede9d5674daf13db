import * as fs from 'fs';
import * as path from 'path';

/** This package's version, read from the nearest package.json named registry-guard above this file. */
export function toolVersion(): string {
  let directory = __dirname;
  for (let level = 0; level < 6; level += 1) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'registry-guard' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No package.json here: keep climbing.
    }
    directory = path.dirname(directory);
  }
  return '0.0.0';
}
