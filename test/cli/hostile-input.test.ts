/**
 * `registry-guard check` on input that is not a template: it ends quickly with exit 2 and one line on stderr,
 * or produces a valid report. Never a hang, a crash, a stack trace, or "OK ... 0 template(s)".
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { MAX_INPUT_FILE_BYTES } from '../../lib/cli/load-templates';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../../lib/cli/run-cli';
import { CliResult, runCliCapturing, tempDirectory } from '../support/cli';

function cli(...argv: string[]): CliResult {
  return runCliCapturing(argv);
}

/** Exit 2, one line on stderr that matches, nothing on stdout. */
function expectRefused(result: CliResult, message: RegExp): void {
  expect(result.stderr).toMatch(message);
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
  expect(result.code).toBe(EXIT_USAGE);
}

const tempDirs: string[] = [];

function tempDir(): string {
  const directory = tempDirectory('hostile');
  tempDirs.push(directory);
  return directory;
}

afterAll(() => tempDirs.forEach((directory) => fs.rmSync(directory, { recursive: true, force: true })));

function writeFile(file: string, content: string | object): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function errnoError(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, '${file}'`), { code, path: file });
}

/** A bucket whose policy grants s3:GetObject to everyone: RegistryGuard-S3PublicPolicy. */
const PUBLIC_TEMPLATE = {
  Resources: {
    Open: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
      },
    },
    OpenPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'Open' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'Anyone', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' },
          ],
        },
      },
    },
  },
};

const STACK = 'aws:cloudformation:stack';

/** A cloud assembly directory with the given manifest and files. */
function assembly(manifest: unknown, files: Record<string, string | object> = {}): string {
  const directory = tempDir();
  writeFile(path.join(directory, 'manifest.json'), JSON.stringify(manifest));
  for (const [name, content] of Object.entries(files)) writeFile(path.join(directory, name), content);
  return directory;
}

function stackArtifact(templateFile: unknown, type: unknown = STACK): Record<string, unknown> {
  return { type, properties: { templateFile } };
}

const onPosix = process.platform === 'win32' ? describe.skip : describe;

afterEach(() => jest.restoreAllMocks());

onPosix('only regular files and directories are read', () => {
  test('a named pipe with no writer is refused at once, not waited on', () => {
    const fifo = path.join(tempDir(), 'template.json');
    execFileSync('mkfifo', [fifo]);
    const result = cli('check', fifo);
    expectRefused(
      result,
      /template\.json: not a regular file \(a named pipe\); pass a template file or a cdk\.out/,
    );
    expect(result.milliseconds).toBeLessThan(10_000);
  });

  test.each(['/dev/zero', '/dev/null', '/dev/urandom'].filter((device) => fs.existsSync(device)))(
    '%s, a character device, is refused without reading it',
    (device) => {
      expectRefused(cli('check', device), /: not a regular file \(a character device\)/);
    },
  );

  test('a socket is refused', async () => {
    const socket = path.join(tempDir(), 'template.yaml');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      expectRefused(cli('check', socket), /template\.yaml: not a regular file \(a socket\)/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a named pipe as the manifest.json of a cdk.out is refused', () => {
    const directory = tempDir();
    execFileSync('mkfifo', [path.join(directory, 'manifest.json')]);
    expectRefused(cli('check', directory), /manifest\.json: not a regular file \(a named pipe\)/);
  });

  test('a named pipe listed as a stack template is refused', () => {
    const directory = assembly({ artifacts: { Roll: stackArtifact('Roll.template.json') } });
    execFileSync('mkfifo', [path.join(directory, 'Roll.template.json')]);
    expectRefused(cli('check', directory), /Roll\.template\.json: not a regular file \(a named pipe\)/);
  });

  test('a path that becomes a named pipe after it was checked is refused once opened, not waited on', () => {
    const directory = tempDir();
    const fifo = path.join(directory, 'swapped.json');
    execFileSync('mkfifo', [fifo]);
    const regular = writeFile(path.join(directory, 'regular.json'), PUBLIC_TEMPLATE);
    const realStat = fs.statSync;
    jest
      .spyOn(fs, 'statSync')
      .mockImplementation(((file: fs.PathLike, options?: fs.StatSyncOptions) =>
        realStat(file === fifo ? regular : file, options)) as typeof fs.statSync);
    expectRefused(cli('check', fifo), /swapped\.json: not a regular file \(a named pipe\)/);
  });
});

describe(`files over ${MAX_INPUT_FILE_BYTES / 1024 / 1024} MiB are refused before they are read`, () => {
  test('a 260 MB template is refused at once, naming its size and the limit', () => {
    const file = path.join(tempDir(), 'huge.template.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 260 * 1024 * 1024); // sparse: takes no disk
    const result = cli('check', file);
    expectRefused(result, /huge\.template\.json: the file is 260\.0 MiB, over the 32 MiB limit/);
    expect(result.milliseconds).toBeLessThan(10_000);
  });

  test('a file at the limit is read (and judged on its content)', () => {
    const file = path.join(tempDir(), 'at-limit.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_INPUT_FILE_BYTES);
    expectRefused(cli('check', file), /at-limit\.json: invalid JSON/);
  });

  test('a file that grows after its size was checked is read no further than the limit', () => {
    const file = path.join(tempDir(), 'growing.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_INPUT_FILE_BYTES + 4 * 1024 * 1024);
    const realStat = fs.statSync;
    const realFstat = fs.fstatSync;
    // The file reports 10 bytes when checked and when opened, as if it grew after that.
    jest
      .spyOn(fs, 'statSync')
      .mockImplementation(((target: fs.PathLike, options?: fs.StatSyncOptions) =>
        target === file
          ? Object.assign(realStat(target), { size: 10 })
          : realStat(target, options)) as typeof fs.statSync);
    jest
      .spyOn(fs, 'fstatSync')
      .mockImplementation(((descriptor: number) =>
        Object.assign(realFstat(descriptor), { size: 10 })) as typeof fs.fstatSync);
    const realRead = fs.readSync;
    let bytesRead = 0;
    jest.spyOn(fs, 'readSync').mockImplementation(((...args: Parameters<typeof fs.readSync>) => {
      const count = (realRead as (...readArgs: unknown[]) => number)(...args);
      bytesRead += count;
      return count;
    }) as typeof fs.readSync);
    expectRefused(cli('check', file), /growing\.json: the file grew past the 32 MiB limit while being read/);
    expect(bytesRead).toBeLessThanOrEqual(MAX_INPUT_FILE_BYTES + 1);
  });

  test('an oversized manifest.json is refused', () => {
    const directory = tempDir();
    fs.writeFileSync(path.join(directory, 'manifest.json'), '');
    fs.truncateSync(path.join(directory, 'manifest.json'), MAX_INPUT_FILE_BYTES + 1);
    expectRefused(cli('check', directory), /manifest\.json: the file is 32\.0 MiB, over the 32 MiB limit/);
  });
});

onPosix('errors name the real cause', () => {
  test('a symbolic link loop is called one, not "no such file"', () => {
    const directory = tempDir();
    fs.symlinkSync(path.join(directory, 'b.json'), path.join(directory, 'a.json'));
    fs.symlinkSync(path.join(directory, 'a.json'), path.join(directory, 'b.json'));
    expectRefused(cli('check', path.join(directory, 'a.json')), /a\.json: too many levels of symbolic links/);
  });

  test('a symbolic link loop listed in a cdk.out is called one', () => {
    const directory = assembly({ artifacts: { Roll: stackArtifact('Roll.template.json') } });
    fs.symlinkSync(
      path.join(directory, 'Roll.template.json'),
      path.join(directory, 'Roll.template.json.tmp'),
    );
    fs.renameSync(path.join(directory, 'Roll.template.json.tmp'), path.join(directory, 'Roll.template.json'));
    expectRefused(cli('check', directory), /Roll\.template\.json: too many levels of symbolic links/);
  });

  test('a template the user may not read says permission denied', () => {
    const file = writeFile(path.join(tempDir(), 'secret.json'), PUBLIC_TEMPLATE);
    const realOpen = fs.openSync;
    // Tests run as root, where chmod 000 denies nothing: the open fails as it would for another user.
    jest.spyOn(fs, 'openSync').mockImplementation(((target: fs.PathLike, ...rest: unknown[]) => {
      if (target === file) throw errnoError('EACCES', file);
      return (realOpen as (...args: unknown[]) => number)(target, ...rest);
    }) as typeof fs.openSync);
    expectRefused(cli('check', file), /secret\.json: permission denied/);
  });

  test('a cdk.out the user may not enter says permission denied, not "no manifest.json"', () => {
    const directory = assembly({ artifacts: { Roll: stackArtifact('Roll.template.json') } });
    const manifest = path.join(directory, 'manifest.json');
    const realStat = fs.statSync;
    jest.spyOn(fs, 'statSync').mockImplementation(((file: fs.PathLike, options?: fs.StatSyncOptions) => {
      if (file === manifest) throw errnoError('EACCES', manifest);
      return realStat(file, options);
    }) as typeof fs.statSync);
    const result = cli('check', directory);
    expectRefused(result, /manifest\.json: permission denied/);
    expect(result.stderr).not.toMatch(/no manifest\.json/);
  });

  test('a path through a file says so', () => {
    const file = writeFile(path.join(tempDir(), 'template.json'), PUBLIC_TEMPLATE);
    expectRefused(cli('check', path.join(file, 'inner.json')), /a component of the path is not a directory/);
  });

  test('a missing file keeps its plain message', () => {
    expectRefused(
      cli('check', path.join(tempDir(), 'missing.json')),
      /missing\.json: no such file or directory$/m,
    );
  });

  test('a file name with a newline still gives one line on stderr', () => {
    expectRefused(cli('check', path.join(tempDir(), 'two\nlines.json')), /two\\nlines\.json: no such file/);
  });
});

describe('a cdk.out that yields no template is an error, never "OK"', () => {
  test.each<[string, unknown, RegExp]>([
    ['null', null, /manifest\.json: not a cloud assembly manifest \(expected a JSON object, found null\)/],
    ['a list', [], /manifest\.json: not a cloud assembly manifest \(expected a JSON object, found list\)/],
    ['an empty object', {}, /: the cloud assembly lists no CloudFormation template/],
    ['artifacts that are a list', { artifacts: [] }, /manifest\.json: artifacts is a list, not an object/],
    [
      'only a tree artifact',
      { artifacts: { Tree: { type: 'cdk:tree' } } },
      /lists no CloudFormation template/,
    ],
  ])('manifest.json of %s', (_name, manifest, message) => {
    expectRefused(cli('check', assembly(manifest)), message);
  });

  test('a template listed under a misspelt artifact type is refused, naming the artifact', () => {
    const directory = assembly(
      { artifacts: { Roll: stackArtifact('Roll.template.json', 'aws:cloudformation:stak') } },
      { 'Roll.template.json': PUBLIC_TEMPLATE },
    );
    expectRefused(
      cli('check', directory),
      /manifest\.json: artifact 'Roll' has a templateFile but its type is 'aws:cloudformation:stak', not 'aws:cloudformation:stack'/,
    );
  });

  test('a templateFile that is not a string is refused', () => {
    const directory = assembly({ artifacts: { Roll: stackArtifact(7) } });
    expectRefused(cli('check', directory), /artifact 'Roll' has templateFile a number, not a file name/);
  });

  test('a stack artifact without a templateFile is refused', () => {
    const directory = assembly({ artifacts: { Roll: { type: STACK, properties: {} } } });
    expectRefused(cli('check', directory), /artifact 'Roll' has templateFile none/);
  });

  test('an asset manifest that cannot be read is refused, not skipped', () => {
    const directory = assembly(
      {
        artifacts: {
          Roll: stackArtifact('Roll.template.json'),
          RollAssets: { type: 'cdk:asset-manifest', properties: { file: 'Roll.assets.json' } },
        },
      },
      { 'Roll.template.json': PUBLIC_TEMPLATE, 'Roll.assets.json': '{"files": ' },
    );
    expectRefused(cli('check', directory), /Roll\.assets\.json: invalid JSON/);
  });

  test('a well-formed assembly is still read', () => {
    const directory = assembly(
      { artifacts: { Roll: stackArtifact('Roll.template.json') } },
      { 'Roll.template.json': PUBLIC_TEMPLATE },
    );
    const result = cli('check', directory, '--format', 'json');
    expect(result.code).toBe(EXIT_FINDINGS);
    expect(JSON.parse(result.stdout).summary.templates).toBe(1);
  });
});

describe('a cloud assembly only points inside its own directory', () => {
  /** A public template beside the assembly: what a path that escapes would read. */
  function assemblyBesidePublicTemplate(manifest: (outside: string) => unknown): string {
    const parent = tempDir();
    writeFile(path.join(parent, 'outside.template.json'), PUBLIC_TEMPLATE);
    writeFile(path.join(parent, 'other', 'manifest.json'), {
      artifacts: { Other: stackArtifact('../outside.template.json') },
    });
    const directory = path.join(parent, 'cdk.out');
    writeFile(
      path.join(directory, 'manifest.json'),
      JSON.stringify(manifest(path.join(parent, 'outside.template.json'))),
    );
    writeFile(path.join(directory, 'Roll.template.json'), PUBLIC_TEMPLATE);
    return directory;
  }

  test.each<[string, (outside: string) => unknown, RegExp]>([
    [
      'a templateFile with ../',
      () => ({ artifacts: { Roll: stackArtifact('../outside.template.json') } }),
      /manifest\.json: '\.\.\/outside\.template\.json' is outside the cloud assembly/,
    ],
    [
      'an absolute templateFile',
      (outside) => ({ artifacts: { Roll: stackArtifact(outside) } }),
      /outside\.template\.json' is an absolute path/,
    ],
    [
      'a nested assembly directoryName with ../',
      () => ({
        artifacts: {
          Roll: stackArtifact('Roll.template.json'),
          Stage: { type: 'cdk:cloud-assembly', properties: { directoryName: '../other' } },
        },
      }),
      /'\.\.\/other' is outside the cloud assembly/,
    ],
    [
      'a nested assembly that is the assembly itself',
      () => ({
        artifacts: {
          Roll: stackArtifact('Roll.template.json'),
          Stage: { type: 'cdk:cloud-assembly', properties: { directoryName: '.' } },
        },
      }),
      /cdk\.out: the cloud assembly is listed inside itself/,
    ],
  ])('%s is refused', (_name, manifest, message) => {
    expectRefused(cli('check', assemblyBesidePublicTemplate(manifest)), message);
  });

  test('an asset source.path with ../ is refused', () => {
    const directory = assemblyBesidePublicTemplate(() => ({
      artifacts: {
        Roll: stackArtifact('Roll.template.json'),
        RollAssets: { type: 'cdk:asset-manifest', properties: { file: 'Roll.assets.json' } },
      },
    }));
    writeFile(path.join(directory, 'Roll.assets.json'), {
      version: '36.0.0',
      files: { abc: { source: { path: '../outside.template.json', packaging: 'file' }, destinations: {} } },
    });
    expectRefused(
      cli('check', directory),
      /Roll\.assets\.json: '\.\.\/outside\.template\.json' is outside the cloud assembly/,
    );
  });

  onPosix('symbolic links', () => {
    test('a template that is a symbolic link to a file outside is refused', () => {
      const directory = assemblyBesidePublicTemplate(() => ({
        artifacts: { Roll: stackArtifact('Linked.template.json') },
      }));
      fs.symlinkSync(
        path.join(directory, '..', 'outside.template.json'),
        path.join(directory, 'Linked.template.json'),
      );
      expectRefused(
        cli('check', directory),
        /'Linked\.template\.json' is a symbolic link to .*outside the cloud assembly/,
      );
    });

    test('a symbolic link that stays inside is read', () => {
      const directory = assemblyBesidePublicTemplate(() => ({
        artifacts: { Roll: stackArtifact('Linked.template.json') },
      }));
      fs.symlinkSync('Roll.template.json', path.join(directory, 'Linked.template.json'));
      expect(cli('check', directory).code).toBe(EXIT_FINDINGS);
    });
  });
});

describe('a UTF-8 byte order mark is ignored', () => {
  test.each([
    ['JSON', 'bom.template.json', JSON.stringify(PUBLIC_TEMPLATE)],
    [
      'YAML',
      'bom.template.yaml',
      [
        'Resources:',
        '  Open:',
        '    Type: AWS::S3::Bucket',
        '    Properties:',
        '      PublicAccessBlockConfiguration: {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false}',
        '  OpenPolicy:',
        '    Type: AWS::S3::BucketPolicy',
        '    Properties:',
        '      Bucket: !Ref Open',
        '      PolicyDocument:',
        '        Statement:',
        '          - {Sid: Anyone, Effect: Allow, Principal: "*", Action: "s3:GetObject", Resource: "*"}',
        '',
      ].join('\n'),
    ],
  ])('%s', (_format, name, text) => {
    const directory = tempDir();
    const withBom = writeFile(path.join(directory, name), `\ufeff${text}`);
    const without = writeFile(path.join(directory, `plain-${name}`), text);
    const findings = (file: string) =>
      JSON.parse(cli('check', file, '--format', 'json').stdout).findings.map(
        ({ path: _path, ...finding }: { path: string }) => finding,
      );
    const result = cli('check', withBom, '--format', 'json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_FINDINGS);
    expect(findings(withBom)).toEqual(findings(without));
    expect(findings(withBom)).toContainEqual(
      expect.objectContaining({ ruleId: 'RegistryGuard-S3PublicPolicy' }),
    );
  });
});

// What XML 1.0 forbids even escaped, and what must be escaped.
const FORBIDDEN_IN_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const BARE_AMPERSAND = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;

/** Well-formed enough for a JUnit consumer: allowed characters only, entities complete, tags balanced. */
function expectWellFormedXml(document: string): void {
  expect(document).not.toMatch(FORBIDDEN_IN_XML);
  expect(document).not.toMatch(BARE_AMPERSAND);
  const open: string[] = [];
  const tag = /<(\/?)([A-Za-z?][\w?-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?|\?)>/g;
  let consumed = 0;
  for (const match of document.matchAll(tag)) {
    expect(document.slice(consumed, match.index)).not.toMatch(/[<>]/);
    consumed = (match.index ?? 0) + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (name.startsWith('?') || selfClosing === '/') continue;
    if (closing === '/') expect(open.pop()).toBe(name);
    else open.push(name);
  }
  expect(document.slice(consumed).trim()).toBe('');
  expect(open).toEqual([]);
}

describe('reports stay valid whatever a template holds', () => {
  // U+FFFE, U+FFFF, a lone surrogate of each kind, C0 controls (an escape sequence among them), XML's own
  // specials, and an emoji that must survive as it is.
  const HOSTILE = 'Roll\uFFFE\uFFFF\uDC00\uD800x\u0000\u0001\u001b[2J\u000b<&"\'>\t\n\r😀';

  function hostileTemplateFile(): string {
    const template = {
      Resources: {
        [HOSTILE]: PUBLIC_TEMPLATE.Resources.Open,
        [`${HOSTILE}Policy`]: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Bucket: { Ref: HOSTILE },
            PolicyDocument: {
              Statement: [
                { Sid: HOSTILE, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' },
              ],
            },
          },
        },
      },
    };
    return writeFile(path.join(tempDir(), 'hostile.json'), template);
  }

  test('junit is well-formed XML 1.0: each character XML forbids becomes U+FFFD', () => {
    const result = cli('check', hostileTemplateFile(), '--format', 'junit');
    expect(result.code).toBe(EXIT_FINDINGS);
    expectWellFormedXml(result.stdout);
    expect(result.stdout).toContain(
      "Roll\uFFFD\uFFFD\uFFFD\uFFFDx\uFFFD\uFFFD\uFFFD[2J\uFFFD&lt;&amp;&quot;'&gt;&#9;&#10;&#13;😀",
    );
  });

  test.each(['json', 'sarif'])('%s parses back as JSON and keeps the logical id', (format) => {
    const result = cli('check', hostileTemplateFile(), '--format', format);
    expect(result.code).toBe(EXIT_FINDINGS);
    const report = JSON.parse(result.stdout);
    const resources =
      format === 'json'
        ? report.findings.map((finding: { resource: string }) => finding.resource)
        : report.runs[0].results.map(
            (found: { locations: { logicalLocations: { name: string }[] }[] }) =>
              found.locations[0].logicalLocations[0].name,
          );
    expect(resources).toContain(HOSTILE);
  });

  test('text shows control characters escaped: nothing reaches the terminal raw', () => {
    const result = cli('check', hostileTemplateFile());
    expect(result.code).toBe(EXIT_FINDINGS);
    // Control characters are what this looks for.
    // eslint-disable-next-line no-control-regex
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(result.stdout).toContain('\\u001b[2J');
  });

  test('sarif uris are percent-encoded references', () => {
    const directory = path.join(tempDir(), 'my templates #1');
    const file = writeFile(path.join(directory, '100% open.json'), PUBLIC_TEMPLATE);
    const sarif = JSON.parse(cli('check', file, '--format', 'sarif').stdout);
    const uri: string = sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri;
    expect(uri).toMatch(/\/my%20templates%20%231\/100%25%20open\.json$/);
  });
});

describe('adversarial strings cost linear time', () => {
  const MEGABYTE = 1024 * 1024;
  // Generous bounds: these guard against hangs (quadratic work on a megabyte takes hours), not for speed.
  const HANG_GUARD_MS = 10_000;

  test.each([
    ['${', '${'.repeat(MEGABYTE / 2)],
    ['":', '":'.repeat(MEGABYTE / 2)],
    ['a key-like line', `${'A'.repeat(MEGABYTE - 1)}"`],
  ])('a megabyte of %s in keys and values, every format', (_name, hostile) => {
    const template = {
      Description: hostile,
      Resources: {
        Roll: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            BucketName: { 'Fn::Sub': hostile },
            Tags: [{ Key: hostile, Value: hostile }],
          },
          Metadata: { [hostile]: hostile },
        },
        RollPolicy: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: {
            Bucket: { Ref: 'Roll' },
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: hostile,
                  Effect: 'Allow',
                  Principal: { AWS: [hostile, { 'Fn::Sub': hostile }] },
                  Action: 's3:GetObject',
                  Resource: { 'Fn::Sub': hostile },
                  Condition: {
                    StringEquals: { [hostile]: hostile, 'aws:SourceVpce': { 'Fn::Sub': hostile } },
                  },
                },
              ],
            },
          },
        },
      },
      Outputs: {
        [`Fn::ForEach::${hostile.slice(0, 1000)}`]: [
          'Id',
          ['A'],
          { [`${hostile}\${Id}`]: { Value: hostile } },
        ],
      },
    };
    // Indented, so each key starts a line of its own for the SARIF line finder.
    const file = writeFile(path.join(tempDir(), 'adversarial.json'), JSON.stringify(template, null, 2));
    for (const format of ['text', 'json', 'sarif', 'junit']) {
      const result = cli('check', file, '--format', format);
      expect(result.stderr).toBe('');
      expect([EXIT_OK, EXIT_FINDINGS]).toContain(result.code);
      expect(result.milliseconds).toBeLessThan(HANG_GUARD_MS);
    }
  });

  test('a megabyte of one YAML line of quotes, colons and ${', () => {
    const file = writeFile(
      path.join(tempDir(), 'adversarial.yaml'),
      `Description: "${'\\":${'.repeat(MEGABYTE / 5)}"\nResources:\n  Roll:\n    Type: AWS::S3::Bucket\n`,
    );
    const result = cli('check', file, '--format', 'sarif');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).version).toBe('2.1.0');
    expect(result.milliseconds).toBeLessThan(HANG_GUARD_MS);
  });

  test.each([
    ['[', `Resources: ${'['.repeat(MEGABYTE)}`],
    ['{', `Resources: ${'{'.repeat(MEGABYTE)}`],
    ['- ', '- '.repeat(MEGABYTE / 2)],
    ['? ', '? '.repeat(MEGABYTE / 2)],
  ])('a megabyte of %s nesting is refused quickly, never a crash', (_name, text) => {
    const file = writeFile(path.join(tempDir(), 'deep.yaml'), text);
    const result = cli('check', file);
    expectRefused(result, /deep\.yaml: invalid YAML: nested more than 256 collections deep/);
    expect(result.milliseconds).toBeLessThan(HANG_GUARD_MS);
  });

  test('JSON nested 100,000 deep is refused, never a crash', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const plain = writeFile(path.join(tempDir(), 'deep.json'), `{"Resources": ${deep}}`);
    expectRefused(cli('check', plain), /deep\.json: not a CloudFormation template \(no Resources object\)/);
    const withLoop = writeFile(
      path.join(tempDir(), 'deep-loop.json'),
      `{"Resources": {"Fn::ForEach::Deep": ["Id", ["a"], {"B\${Id}": ${deep}}]}}`,
    );
    expectRefused(
      cli('check', withLoop),
      /deep-loop\.json: the template is nested more than 512 levels deep/,
    );
  });
});
