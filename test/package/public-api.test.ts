/**
 * The package's API is what its two entry points export, and nothing more: adding or removing a name must
 * be a decision (and a line here), never the side effect of an `export` added for a neighbouring module.
 * Read from the TypeScript sources with the compiler, so types count as much as values.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '../..');
const ROOT_ENTRY = path.join(REPO, 'lib/index.ts');
const REMEDIATION_ENTRY = path.join(REPO, 'lib/remediation/index.ts');

/** `registry-guard`. */
const ROOT_EXPORTS = [
  'AcceptedAcknowledgement',
  'AccessPointAccess',
  'AccessPointNetworkOrigin',
  'AcknowledgementVerdict',
  'AclVerdict',
  'AppFacts',
  'BlockPublicAccessSetting',
  'BlockPublicAccessVerdict',
  'BucketAccessState',
  'BucketExposure',
  'CheckTemplateOptions',
  'Errors',
  'ExternalAccessOptions',
  'ExternalAccessVerdict',
  'ExternalStatement',
  'Finding',
  'GuardMemberStack',
  'GuardMemberStackProps',
  'GuardMode',
  // For every jsii language (Python, Java, .NET): the rule interface, what it is given, and the static
  // counterpart of checkTemplate (jsii has no free functions, readonly arrays or maps).
  'IAppFacts',
  'IRegistryGuardRule',
  'ITemplateIndex',
  'NeutralisingLevel',
  'OrganizationGuardrails',
  'OrganizationGuardrailsProps',
  'OrganizationRegionalHub',
  // With GuardMemberStackProps: jsii gives these classes constructors in every language.
  'OrganizationRegionalHubProps',
  'PolicyJudgementOptions',
  'PolicyKind',
  'PolicyVerdict',
  'PublicAccessGuard',
  'PublicAccessGuardOptions',
  'PublicAccessGuardProps',
  'PublicGrant',
  'PublicGroup',
  'PublicStatement',
  'REGISTRY_GUARD_RULES',
  'RefusalCause',
  'RefusedAcknowledgement',
  'RegistryGuardChecks',
  'RegistryGuardChecksProps',
  'RegistryGuardRule',
  'RegistryGuardValidationError',
  'RegistryObjectLock',
  'RuleEvaluation',
  'RuleLevel',
  'SensitiveRegistryBucket',
  'SensitiveRegistryBucketPropError',
  'SensitiveRegistryBucketProps',
  'TemplateChecks',
  'TemplateChecksOptions',
  'TemplateContext',
  'TemplateIndex',
  'TemplateResource',
  'TrustZone',
  'checkTemplate',
  'evaluateTemplate',
  'judgeAccessPoint',
  'judgeAcl',
  'judgeBlockPublicAccess',
  'judgeBucketExposure',
  'judgeExternalAccess',
  'judgePolicy',
];

/** `registry-guard/remediation`. */
const REMEDIATION_EXPORTS = [
  // The events parseGuardEvent returns for access points, Multi-Region Access Points and object ACLs.
  'AccessPointApiCallEvent',
  'AccessPointEventName',
  'AccountApiCallEvent',
  'AccountBlockPublicAccessReading',
  'AccountBlockPublicAccessRequestEvent',
  'AccountEventName',
  'AccountNoticeInput',
  'AccountOutcome',
  'ActionKind',
  'ActionRecord',
  'ActionStatus',
  'ApiCallEventFields',
  'BucketApiCallEvent',
  'BucketEventName',
  'BucketOutcome',
  'CloudFormationRequestIds',
  'CloudFormationResponse',
  'ComplianceVerdict',
  'ConfigChangeEvent',
  'ConfigRuleEventFields',
  'ConfigScheduledEvent',
  'CustomResourceRequestType',
  'DeliveryError',
  'EvidenceRef',
  'GuardDependencies',
  'GuardEnvironment',
  'GuardEvent',
  'GuardHandler',
  'GuardLogger',
  'GuardMode',
  'GuardResult',
  'IncidentClaim',
  'InvalidCustomResourceRequestError',
  'InvalidEventError',
  'InvocationContext',
  'MultiRegionAccessPointApiCallEvent',
  'MultiRegionAccessPointEventName',
  'ObjectAclApiCallEvent',
  'ObjectAclEventName',
  'ParseOptions',
  'PolicyRewrite',
  'PublicStatement',
  'RejectedCustomResourceRequest',
  'RemediationOutcome',
  'SecurityHubDelivery',
  'StillPublicError',
  'SweepTuning',
  'WayIn',
  'createHandler',
  'handler',
  'parseGuardEvent',
  'policyWithoutPublicStatements',
];

/** The props of the constructs and the pack: what another CDK language would have to express. */
const PROPS_INTERFACES = [
  'GuardMemberStackProps',
  'OrganizationGuardrailsProps',
  'OrganizationRegionalHubProps',
  'PublicAccessGuardOptions',
  'PublicAccessGuardProps',
  'RegistryGuardChecksProps',
  'RegistryObjectLock',
  'SensitiveRegistryBucketProps',
  'TemplateChecksOptions',
];

const TYPE_DECLARATION =
  ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class | ts.SymbolFlags.Enum;

// One program for every test: creating it type-checks the library once (seconds).
const program = ts.createProgram([ROOT_ENTRY, REMEDIATION_ENTRY], {
  strict: true,
  skipLibCheck: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  types: ['node'],
});
const checker = program.getTypeChecker();

function exportsOf(entry: string): ts.Symbol[] {
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return checker.getExportsOfModule(moduleSymbol);
}

function resolved(symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

function isTypeOnlyExport(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some(
    (declaration) =>
      ts.isExportSpecifier(declaration) && (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly),
  );
}

function isProjectDeclaration(declaration: ts.Declaration): boolean {
  const file = declaration.getSourceFile().fileName;
  return file.startsWith(REPO) && !file.includes('/node_modules/');
}

function isHidden(node: ts.Node): boolean {
  if ((ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node)) && ts.isPrivateIdentifier(node.name)) {
    return true;
  }
  return (
    ts.canHaveModifiers(node) &&
    (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Private) !== 0
  );
}

/**
 * Types declared in this project that the entry's exports name (parameters, results, properties, base
 * types, and the types those name in turn) but the entry does not export: a user could receive them but
 * not name them, and another language could not express them at all. Function bodies and private members
 * are not API; nor is the constructor of a class exported only as a type, which users cannot call.
 */
function unexportedNamedTypes(entry: string): string[] {
  const entryExports = exportsOf(entry);
  const exported = new Set(entryExports.map(resolved));
  const typeOnlyClasses = new Set(
    entryExports
      .filter(isTypeOnlyExport)
      .map(resolved)
      .filter((symbol) => symbol.flags & ts.SymbolFlags.Class),
  );
  const visited = new Set<ts.Symbol>();
  const missing = new Set<string>();

  const visitType = (type: ts.Type): void => {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (symbol !== undefined) visitSymbol(symbol);
    if (type.isUnionOrIntersection()) type.types.forEach(visitType);
  };
  const visitDeclaration = (declaration: ts.Node, owner: ts.Symbol): void => {
    const walk = (node: ts.Node): void => {
      if (ts.isBlock(node) || isHidden(node)) return;
      if (ts.isConstructorDeclaration(node) && typeOnlyClasses.has(owner)) return;
      if ((ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node)) && node.type === undefined) {
        visitType(checker.getTypeAtLocation(node));
        return;
      }
      const reference = ts.isTypeReferenceNode(node)
        ? node.typeName
        : ts.isExpressionWithTypeArguments(node)
          ? node.expression
          : ts.isTypeQueryNode(node)
            ? node.exprName
            : undefined;
      const symbol = reference === undefined ? undefined : checker.getSymbolAtLocation(reference);
      if (symbol !== undefined) visitSymbol(resolved(symbol));
      ts.forEachChild(node, walk);
    };
    walk(declaration);
  };
  const visitSymbol = (symbol: ts.Symbol): void => {
    if (visited.has(symbol)) return;
    const declarations = symbol.declarations ?? [];
    if (!declarations.some(isProjectDeclaration)) return;
    visited.add(symbol);
    const isType = (symbol.flags & TYPE_DECLARATION) !== 0;
    if (isType && !exported.has(symbol)) missing.add(symbol.name);
    // An unexported value (a const behind `typeof`) is an implementation detail of the type that names it.
    if (!isType && !exported.has(symbol)) return;
    for (const declaration of declarations) visitDeclaration(declaration, symbol);
  };
  for (const symbol of exported) {
    visited.add(symbol);
    for (const declaration of symbol.declarations ?? []) visitDeclaration(declaration, symbol);
  }
  return [...missing].sort();
}

function valueExportNames(entry: string): string[] {
  return exportsOf(entry)
    .filter((symbol) => !isTypeOnlyExport(symbol) && resolved(symbol).flags & ts.SymbolFlags.Value)
    .map((symbol) => symbol.name)
    .sort();
}

function rootInterface(name: string): ts.InterfaceType {
  const symbol = exportsOf(ROOT_ENTRY).find((candidate) => candidate.name === name);
  if (symbol === undefined) throw new Error(`the package root does not export ${name}`);
  return checker.getDeclaredTypeOfSymbol(resolved(symbol)) as ts.InterfaceType;
}

const COLLECTION_OR_UTILITY_TYPES = new Set([
  'Map',
  'ReadonlyMap',
  'Set',
  'ReadonlySet',
  'Omit',
  'Pick',
  'Partial',
  'Required',
  'Record',
]);

/** A union of string literals (`'a' | 'b'`), which another language cannot express; an enum it can. */
function isStringLiteralUnion(type: ts.Type): boolean {
  const members = type.isUnion()
    ? type.types.filter((member) => !(member.flags & ts.TypeFlags.Undefined))
    : [];
  return (
    members.length > 1 &&
    members.every((member) => member.isStringLiteral() && !(member.flags & ts.TypeFlags.EnumLiteral))
  );
}

/** What a prop's declaration would break in another language, or misses in its documentation. */
function propProblems(property: ts.Symbol): string[] {
  const declaration = property.valueDeclaration;
  if (declaration === undefined || !ts.isPropertySignature(declaration)) return ['not a property signature'];
  const problems: string[] = [];
  const type = checker.getTypeOfSymbol(property);
  const named = [type, ...(type.isUnion() ? type.types : [])].flatMap((member) => [
    member.aliasSymbol?.name,
    member.getSymbol()?.name,
  ]);
  const typeText = declaration.type?.getText() ?? checker.typeToString(type);
  if (named.some((name) => name !== undefined && COLLECTION_OR_UTILITY_TYPES.has(name))) {
    problems.push(`type ${typeText} is a collection or utility type: use an array or an interface`);
  }
  if (isStringLiteralUnion(type)) problems.push(`type ${typeText} is a union of strings: use an enum`);
  const documentation = ts.displayPartsToString(property.getDocumentationComment(checker));
  if (documentation.trim() === '') problems.push('no TSDoc');
  const optional = declaration.questionToken !== undefined;
  if (optional && !property.getJsDocTags(checker).some((tag) => tag.name === 'default')) {
    problems.push('optional without @default');
  }
  return problems;
}

describe('the public API', () => {
  test('registry-guard exports exactly the constructs, their props, the pack, the judgement and the rule-writing types', () => {
    expect(
      exportsOf(ROOT_ENTRY)
        .map((symbol) => symbol.name)
        .sort(),
    ).toEqual(ROOT_EXPORTS);
  });

  test('registry-guard/remediation exports exactly the handler, createHandler, the event parser, the policy rewrite, the errors and their types', () => {
    expect(
      exportsOf(REMEDIATION_ENTRY)
        .map((symbol) => symbol.name)
        .sort(),
    ).toEqual(REMEDIATION_EXPORTS);
  });

  test.each([
    ['registry-guard', ROOT_ENTRY],
    ['registry-guard/remediation', REMEDIATION_ENTRY],
  ])('every type that %s names is exported from it', (_name, entry) => {
    expect(unexportedNamedTypes(entry)).toEqual([]);
  });

  test.each([
    ['registry-guard', ROOT_ENTRY, '../../lib/index'],
    ['registry-guard/remediation', REMEDIATION_ENTRY, '../../lib/remediation/index'],
  ])('%s holds at run time exactly its value exports', (_name, entry, modulePath) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(modulePath) as Record<string, unknown>;
    expect(Object.keys(loaded).sort()).toEqual(valueExportNames(entry));
  });

  test('package.json exposes the two entry points and nothing deeper', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './package.json', './remediation']);
  });

  test('RegistryGuardRule, what a rule author implements, is an interface', () => {
    expect(rootInterface('RegistryGuardRule').isClassOrInterface()).toBe(true);
    expect(resolved(exportsOf(ROOT_ENTRY).find((symbol) => symbol.name === 'RegistryGuardRule')!).flags).toBe(
      ts.SymbolFlags.Interface,
    );
  });

  test.each(PROPS_INTERFACES)(
    '%s: plain interfaces, enums, arrays, and TSDoc with @default on every optional prop',
    (name) => {
      const problems = checker
        .getPropertiesOfType(rootInterface(name))
        .filter((property) =>
          property.valueDeclaration ? isProjectDeclaration(property.valueDeclaration) : false,
        )
        .flatMap((property) => propProblems(property).map((problem) => `${property.name}: ${problem}`));
      expect(problems).toEqual([]);
    },
  );
});
