/**
 * The jsii assembly, what Python, Java and .NET users get: it must hold every construct and prop a TypeScript
 * user has, with the same docs. Read against the TypeScript compiler's view of the package root (as
 * public-api.test.ts reads it), so a construct, prop or member added in TypeScript is checked here without a
 * list to update; only what is marked `@jsii ignore` may be TypeScript-only, and that is listed below.
 *
 * The assembly is compiled from the current sources in a copy of the repository: jsii writes .jsii and dist/
 * where it runs, and packed-tarball.test.ts builds the checkout itself at the same time.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAssemblyFromPath } from '@jsii/spec';
import * as reflect from 'jsii-reflect';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '../..');
const ROOT_ENTRY = path.join(REPO, 'lib/index.ts');
const PACKAGE = 'registry-guard';

/**
 * Members of constructs and props that only TypeScript has, each with the jsii member that replaces it:
 * a change here is a decision about what other languages get.
 */
const TYPESCRIPT_ONLY_MEMBERS: Record<string, string> = {
  // A ReadonlyMap: other languages read `regions` and call `hubIn(region)`.
  'OrganizationGuardrails.hubs': 'OrganizationGuardrails.hubIn',
};

const program = ts.createProgram([ROOT_ENTRY], {
  strict: true,
  skipLibCheck: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  types: ['node'],
});
const checker = program.getTypeChecker();

function resolved(symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

const rootExports = checker
  .getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(ROOT_ENTRY)!)!)
  .map(resolved);

function isProjectDeclaration(declaration: ts.Node): boolean {
  const file = declaration.getSourceFile().fileName;
  return file.startsWith(REPO) && !file.includes('/node_modules/');
}

/** `@jsii ignore` on every declaration: the symbol is TypeScript-only (jsii's own rule). */
function isJsiiIgnored(symbol: ts.Symbol): boolean {
  const declarations = symbol.declarations ?? [];
  return (
    declarations.length > 0 &&
    declarations.every((declaration) =>
      ts
        .getJSDocTags(declaration)
        .some(
          (tag) =>
            tag.tagName.text === 'jsii' && /^ignore\b/.test(ts.getTextOfJSDocComment(tag.comment) ?? ''),
        ),
    )
  );
}

/** The TSDoc text of a symbol, whitespace collapsed: what the jsii summary and remarks together must say. */
function typescriptDocs(symbol: ts.Symbol): string {
  return normalised(ts.displayPartsToString(symbol.getDocumentationComment(checker)));
}

function typescriptDefault(symbol: ts.Symbol): string | undefined {
  const tag = symbol.getJsDocTags(checker).find((candidate) => candidate.name === 'default');
  return tag === undefined ? undefined : normalised(ts.displayPartsToString(tag.text));
}

function jsiiDocs(docs: reflect.Docs): string {
  return normalised([docs.summary, docs.remarks].filter((text) => text !== '').join(' '));
}

function normalised(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

const KINDS = ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.Enum;
const jsiiCandidates = rootExports.filter((symbol) => symbol.flags & KINDS);

function isConstruct(symbol: ts.Symbol): boolean {
  if (!(symbol.flags & ts.SymbolFlags.Class)) return false;
  const bases = (type: ts.Type): ts.Type[] =>
    (type.isClassOrInterface() ? (checker.getBaseTypes(type) ?? []) : []).flatMap((base) => [
      base,
      ...bases(base),
    ]);
  return bases(checker.getDeclaredTypeOfSymbol(symbol)).some((base) => {
    const declaration = base.getSymbol()?.declarations?.[0];
    return (
      base.getSymbol()?.name === 'Construct' && declaration?.getSourceFile().fileName.includes('/constructs/')
    );
  });
}

/** Public, non-static members a TypeScript user of the class or interface sees, declared in this project. */
function publicMembers(symbol: ts.Symbol): ts.Symbol[] {
  return checker
    .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))
    .filter((member) => (member.declarations ?? []).some(isProjectDeclaration))
    .filter((member) => {
      const declaration = member.valueDeclaration ?? member.declarations?.[0];
      if (declaration === undefined) return false;
      if (ts.isPropertyDeclaration(declaration) || ts.isMethodDeclaration(declaration)) {
        if (ts.isPrivateIdentifier(declaration.name)) return false;
      }
      const flags = ts.getCombinedModifierFlags(declaration as ts.Declaration);
      return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
    });
}

/** Project interfaces a props interface names through its props (RegistryObjectLock, PublicAccessGuardOptions). */
function interfacesNamedBy(symbol: ts.Symbol, found = new Set<ts.Symbol>()): Set<ts.Symbol> {
  if (found.has(symbol)) return found;
  found.add(symbol);
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  for (const base of type.isClassOrInterface() ? (checker.getBaseTypes(type) ?? []) : []) {
    const baseSymbol = base.getSymbol();
    if (baseSymbol && (baseSymbol.declarations ?? []).some(isProjectDeclaration))
      interfacesNamedBy(baseSymbol, found);
  }
  for (const property of checker.getPropertiesOfType(type)) {
    const propertyType = checker.getNonNullableType(checker.getTypeOfSymbol(property));
    const named = propertyType.getSymbol();
    if (
      named !== undefined &&
      named.flags & ts.SymbolFlags.Interface &&
      (named.declarations ?? []).some(isProjectDeclaration)
    ) {
      interfacesNamedBy(named, found);
    }
  }
  return found;
}

const constructs = jsiiCandidates.filter(isConstruct);
/** The props of every construct's constructor, and every project interface those props name. */
const propsInterfaces = [
  ...new Set(
    constructs.flatMap((construct) => {
      const signatures = checker
        .getTypeOfSymbol(construct)
        .getConstructSignatures()
        .flatMap((signature) => signature.getParameters());
      return signatures.flatMap((parameter) => {
        const named = checker.getNonNullableType(checker.getTypeOfSymbol(parameter)).getSymbol();
        return named !== undefined &&
          named.flags & ts.SymbolFlags.Interface &&
          (named.declarations ?? []).some(isProjectDeclaration)
          ? [...interfacesNamedBy(named)]
          : [];
      });
    }),
  ),
];

/** How a member's type reads in jsii, as far as this test cares: what a string union or a map would degrade to. */
function degradedType(member: ts.Symbol, reference: reflect.TypeReference): string | undefined {
  const type = checker.getNonNullableType(checker.getTypeOfSymbol(member));
  const written = checker.typeToString(type);
  if (reference.isAny && !(type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown))) {
    return `${written} became any`;
  }
  if (reference.primitive === 'string' && !(type.flags & ts.TypeFlags.String)) {
    return `${written} became string`;
  }
  return undefined;
}

describe('the jsii assembly', () => {
  const workDirectory = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'registry-guard-jsii-'));
  let compile: ReturnType<typeof spawnSync>;
  let assembly: reflect.Assembly;

  beforeAll(async () => {
    for (const entry of [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'README.md',
      'lib',
      'rules',
      'bin',
      'scripts',
    ]) {
      fs.cpSync(path.join(REPO, entry), path.join(workDirectory, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(workDirectory, 'node_modules'), 'dir');
    compile = spawnSync(path.join(REPO, 'node_modules/.bin/jsii'), [], {
      cwd: workDirectory,
      encoding: 'utf8',
    });
    if (compile.status !== 0) throw new Error(`jsii failed:\n${compile.stdout}\n${compile.stderr}`);
    const dropBin = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'), ['scripts/npm-only-entries.ts'], {
      cwd: workDirectory,
      encoding: 'utf8',
    });
    if (dropBin.status !== 0) throw new Error(`npm-only-entries failed:\n${dropBin.stderr}`);
    // Our assembly against the jsii schema; its dependencies (aws-cdk-lib's is 60 MB) are read as published.
    loadAssemblyFromPath(workDirectory, true);
    assembly = await new reflect.TypeSystem().load(workDirectory, {
      validate: false,
      supportedFeatures: ['intersection-types'],
    });
  }, 240_000);

  /** The README's Python, checked against the Python package jsii-pacmak generates from this assembly. */
  function readmePythonExamples(): string[] {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const section = readme.split('\n## Python, Java and .NET (jsii)\n')[1]?.split('\n## ')[0] ?? '';
    return [...section.matchAll(/```python\n([\s\S]*?)```/g)].map((match) => match[1]);
  }

  afterAll(() => {
    fs.rmSync(workDirectory, { recursive: true, force: true });
  });

  test('compiles without a warning', () => {
    expect(`${compile.stdout}${compile.stderr}`).not.toMatch(/warning JSII/);
  });

  test('holds exactly the classes, interfaces and enums the package root exports, but those marked @jsii ignore', () => {
    const expected = jsiiCandidates
      .filter((symbol) => !isJsiiIgnored(symbol))
      .map((symbol) => symbol.name)
      .sort();
    expect(assembly.allTypes.map((type) => type.name).sort()).toEqual(expected);
    // What stays TypeScript-only is named in the sources, never dropped silently.
    expect(
      jsiiCandidates
        .filter(isJsiiIgnored)
        .every((symbol) => (symbol.declarations ?? []).some(isProjectDeclaration)),
    ).toBe(true);
  });

  test('leaves out the npm-only entries: nothing from the handler or the CLI, and no bin script', () => {
    expect(assembly.spec.bin).toBeUndefined();
    const files = assembly.allTypes.map((type) => type.locationInModule?.filename ?? '');
    expect(files.filter((file) => /^(lib\/remediation|lib\/cli|bin)\//.test(file))).toEqual([]);
  });

  test('names its dependencies as peers, at the minimums the package tests against', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(assembly.spec.dependencies).toEqual(manifest.peerDependencies);
    for (const [name, range] of Object.entries(manifest.peerDependencies)) {
      expect(`^${manifest.devDependencies[name]}`).toBe(range);
    }
  });

  test("the README's Python example matches the generated Python package", () => {
    const examples = readmePythonExamples();
    expect(examples.length).toBeGreaterThan(0);
    const generate = spawnSync(
      path.join(REPO, 'node_modules/.bin/jsii-pacmak'),
      ['--targets', 'python', '--code-only', '--no-npmignore', '--outdir', 'dist/packages'],
      { cwd: workDirectory, encoding: 'utf8', env: { ...process.env, npm_config_ignore_scripts: 'true' } },
    );
    if (generate.status !== 0) throw new Error(`jsii-pacmak failed:\n${generate.stdout}\n${generate.stderr}`);
    const generated = path.join(workDirectory, 'dist/packages/python/src/registry_guard/__init__.py');
    for (const [position, example] of examples.entries()) {
      const file = path.join(workDirectory, `example-${position + 1}.py`);
      fs.writeFileSync(file, example);
      const check = spawnSync(
        'python3',
        [path.join(REPO, 'test/support/python-example-check.py'), generated, file],
        {
          encoding: 'utf8',
        },
      );
      if (check.status !== 0) throw new Error(`the example does not parse:\n${check.stderr}`);
      expect(JSON.parse(check.stdout)).toEqual([]);
    }
  }, 120_000);

  test.each(constructs.map((symbol) => [symbol.name, symbol] as const))(
    'construct %s: its constructor, every public member, and their docs',
    (name, symbol) => {
      const jsiiClass = assembly.findType(`${PACKAGE}.${name}`) as reflect.ClassType;
      expect(jsiiClass.isClassType()).toBe(true);
      expect(jsiiDocs(jsiiClass.docs)).toBe(typescriptDocs(symbol));

      const [signature] = checker.getTypeOfSymbol(symbol).getConstructSignatures();
      expect(
        jsiiClass.initializer?.parameters.map((parameter) => [parameter.name, parameter.optional]),
      ).toEqual(
        signature
          .getParameters()
          .map((parameter) => [
            parameter.name,
            (parameter.valueDeclaration as ts.ParameterDeclaration).questionToken !== undefined ||
              (parameter.valueDeclaration as ts.ParameterDeclaration).initializer !== undefined,
          ]),
      );

      const members = { ...jsiiClass.getProperties(true), ...jsiiClass.getMethods(true) };
      const problems = publicMembers(symbol).flatMap((member) => {
        const qualified = `${name}.${member.name}`;
        if (isJsiiIgnored(member)) {
          const replacement = TYPESCRIPT_ONLY_MEMBERS[qualified];
          if (replacement === undefined) return [`${qualified} is TypeScript-only but not listed as such`];
          return replacement.split('.')[1] in members ? [] : [`${replacement} does not replace ${qualified}`];
        }
        const jsiiMember = members[member.name];
        if (jsiiMember === undefined) return [`${qualified} is missing`];
        const found: string[] = [];
        if (jsiiDocs(jsiiMember.docs) !== typescriptDocs(member)) found.push(`${qualified}: docs differ`);
        if (jsiiMember instanceof reflect.Property) {
          const degraded = degradedType(member, jsiiMember.type);
          if (degraded !== undefined) found.push(`${qualified}: ${degraded}`);
        }
        return found;
      });
      expect(problems).toEqual([]);
    },
  );

  test.each(propsInterfaces.map((symbol) => [symbol.name, symbol] as const))(
    'props %s: every prop, its optionality, its docs and its @default',
    (name, symbol) => {
      const struct = assembly.findType(`${PACKAGE}.${name}`) as reflect.InterfaceType;
      expect(struct.isDataType()).toBe(true);
      const jsiiProps = struct.getProperties(true);
      const problems = publicMembers(symbol).flatMap((prop) => {
        const qualified = `${name}.${prop.name}`;
        const jsiiProp = jsiiProps[prop.name];
        if (jsiiProp === undefined) return [`${qualified} is missing`];
        const found: string[] = [];
        const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
        if (jsiiProp.optional !== optional) found.push(`${qualified}: optional ${optional} in TypeScript`);
        if (jsiiDocs(jsiiProp.docs) !== typescriptDocs(prop)) found.push(`${qualified}: docs differ`);
        const jsiiDefault = jsiiProp.docs.docs.default;
        if ((jsiiDefault === undefined ? undefined : normalised(jsiiDefault)) !== typescriptDefault(prop)) {
          found.push(`${qualified}: @default differs`);
        }
        const degraded = degradedType(prop, jsiiProp.type);
        if (degraded !== undefined) found.push(`${qualified}: ${degraded}`);
        return found;
      });
      expect(problems).toEqual([]);
    },
  );

  test.each(
    jsiiCandidates
      .filter((symbol) => symbol.flags & ts.SymbolFlags.Enum)
      .map((symbol) => [symbol.name, symbol] as const),
  )('enum %s: the same members, with their docs', (name, symbol) => {
    const jsiiEnum = assembly.findType(`${PACKAGE}.${name}`) as reflect.EnumType;
    expect(jsiiEnum.isEnumType()).toBe(true);
    const members = checker.getExportsOfModule(symbol);
    expect(jsiiEnum.members.map((member) => [member.name, jsiiDocs(member.docs)])).toEqual(
      members.map((member) => [member.name, typescriptDocs(member)]),
    );
  });
});
