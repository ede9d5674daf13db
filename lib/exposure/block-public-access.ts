/**
 * Which S3 Block Public Access settings are off. The four settings are independent; each one that is
 * off leaves a path to public access open. An absent configuration, or an absent setting, is off.
 */

/** The four Block Public Access settings, in the order the S3 API lists them. */
export const BLOCK_PUBLIC_ACCESS_SETTINGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;

/** One of the four Block Public Access settings. */
export type BlockPublicAccessSetting = (typeof BLOCK_PUBLIC_ACCESS_SETTINGS)[number];

/**
 * The judgement of one Block Public Access configuration.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface BlockPublicAccessVerdict {
  /** True when all four settings are on. */
  readonly allOn: boolean;
  /** The settings that are off or absent. */
  readonly settingsOff: readonly BlockPublicAccessSetting[];
  /** The settings that are on. */
  readonly settingsOn: readonly BlockPublicAccessSetting[];
}

/**
 * Judges a Block Public Access configuration as CloudFormation (`BlockPublicAcls: true` or `"true"`), the
 * S3 and S3 Control APIs (`BlockPublicAcls: true`) or AWS Config (`blockPublicAcls: true`) write it.
 * `undefined` or `null` means no configuration: every setting off.
 *
 * @example
 * judgeBlockPublicAccess({ BlockPublicAcls: 'true', IgnorePublicAcls: true }).settingsOff;
 * // ['BlockPublicPolicy', 'RestrictPublicBuckets']
 */
export function judgeBlockPublicAccess(configuration: unknown): BlockPublicAccessVerdict {
  const fields =
    configuration !== null && typeof configuration === 'object' && !Array.isArray(configuration)
      ? (configuration as Record<string, unknown>)
      : {};
  const settingsOn = BLOCK_PUBLIC_ACCESS_SETTINGS.filter((setting) => isOn(settingValue(fields, setting)));
  const settingsOff = BLOCK_PUBLIC_ACCESS_SETTINGS.filter((setting) => !settingsOn.includes(setting));
  return { allOn: settingsOff.length === 0, settingsOff, settingsOn };
}

function settingValue(fields: Record<string, unknown>, setting: BlockPublicAccessSetting): unknown {
  if (setting in fields) return fields[setting];
  const camelCase = setting.charAt(0).toLowerCase() + setting.slice(1);
  return fields[camelCase];
}

/** CloudFormation accepts `"true"` for a Boolean; anything else, an intrinsic included, is not proven on. */
function isOn(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}
