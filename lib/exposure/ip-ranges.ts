/**
 * CIDR handling for `aws:SourceIp`. The S3 User Guide counts a policy that limits access to a set of
 * CIDR blocks as non-public, but evaluates very broad ranges as public: anything broader than /8 for
 * IPv4 or /32 for IPv6. `0.0.0.0/0` is the whole internet, not a restriction.
 */

/** The narrowest IPv4 prefix length that still counts as a restriction. */
export const MIN_IPV4_PREFIX = 8;
/** The narrowest IPv6 prefix length that still counts as a restriction. */
export const MIN_IPV6_PREFIX = 32;

/** A parsed CIDR block. */
export interface CidrBlock {
  readonly family: 4 | 6;
  readonly prefixLength: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpv4Address(text: string): boolean {
  const match = IPV4.exec(text);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255);
}

function isIpv6Address(text: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(':')) return false;
  const doubleColons = text.split('::').length - 1;
  if (doubleColons > 1) return false;
  const groups = text.split(':').filter((group) => group !== '');
  const lastGroup = groups[groups.length - 1] ?? '';
  const embeddedIpv4 = lastGroup.includes('.');
  if (embeddedIpv4 && !isIpv4Address(lastGroup)) return false;
  const hexGroups = embeddedIpv4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return false;
  const width = hexGroups.length + (embeddedIpv4 ? 2 : 0);
  return doubleColons === 1 ? width < 8 : width === 8;
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a single host). Returns undefined when malformed. */
export function parseCidr(text: string): CidrBlock | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  if (isIpv4Address(address)) {
    const prefixLength = prefixText === undefined ? 32 : Number(prefixText);
    return prefixLength <= 32 ? { family: 4, prefixLength } : undefined;
  }
  if (isIpv6Address(address)) {
    const prefixLength = prefixText === undefined ? 128 : Number(prefixText);
    return prefixLength <= 128 ? { family: 6, prefixLength } : undefined;
  }
  return undefined;
}

/** Why a CIDR does not limit access to a bounded set of addresses, or undefined when it does. */
export function whyCidrUnbounded(text: string): string | undefined {
  const block = parseCidr(text);
  if (block === undefined) return `'${text}' is not a valid CIDR block`;
  const minimum = block.family === 4 ? MIN_IPV4_PREFIX : MIN_IPV6_PREFIX;
  if (block.prefixLength < minimum) {
    return `'${text}' is broader than /${minimum}, which AWS evaluates as public`;
  }
  return undefined;
}
