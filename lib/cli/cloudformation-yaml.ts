/**
 * CloudFormation YAML: plain YAML plus the short-form intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`, ...),
 * each parsed into the long form (`{ Ref: ... }`, `{ "Fn::Sub": ... }`) that the rules read.
 */
import type { Tags, YAMLMap, YAMLSeq } from 'yaml';

const FUNCTION_TAGS = [
  'And',
  'Base64',
  'Cidr',
  'Equals',
  'FindInMap',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'ToJsonString',
  'Length',
] as const;

function longForm(tag: string): string {
  return tag === 'Ref' || tag === 'Condition' ? tag : `Fn::${tag}`;
}

/** `!GetAtt Resource.Attribute` is the one short form whose scalar is not the long form's argument. */
function getAttArgument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const dot = value.indexOf('.');
  return dot === -1 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

function tagsFor(name: string, toArgument: (value: unknown) => unknown = (value) => value): Tags {
  const key = longForm(name);
  const wrap = (value: unknown): Record<string, unknown> => ({ [key]: toArgument(value) });
  return [
    { tag: `!${name}`, resolve: (value: string) => wrap(value) },
    { tag: `!${name}`, collection: 'seq', resolve: (seq) => wrap((seq as YAMLSeq).toJSON()) },
    { tag: `!${name}`, collection: 'map', resolve: (map) => wrap((map as YAMLMap).toJSON()) },
  ];
}

const CLOUDFORMATION_TAGS: Tags = [
  ...tagsFor('Ref'),
  ...tagsFor('Condition'),
  ...tagsFor('GetAtt', getAttArgument),
  ...FUNCTION_TAGS.flatMap((name) => tagsFor(name)),
];

/** Parses a CloudFormation template written in YAML. Throws on malformed YAML. */
export function parseCloudFormationYaml(text: string): unknown {
  // Loaded on first use: the YAML parser costs ~60 ms of start-up that JSON templates and cdk.out never need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('yaml') as typeof import('yaml');
  return parse(text, {
    customTags: CLOUDFORMATION_TAGS,
    // Templates are data from anywhere: refuse alias bombs rather than expanding them.
    maxAliasCount: 100,
    prettyErrors: false,
    uniqueKeys: false,
  });
}
