/**
 * What a restore would change: each setting whose live value differs from the record, what is
 * deliberately left alone, and what of it the public judgement calls public. Pure: no SDK calls.
 */
import { Grant, PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import {
  BLOCK_PUBLIC_ACCESS_SETTINGS,
  judgeAccessPoint,
  judgeAcl,
  judgeBlockPublicAccess,
  judgePolicy,
} from '../exposure';
import { BucketAcl } from '../remediation/read/bucket-state';
import { RestoreRecord } from './restore-evidence';
import { LiveState } from './restore-live';

/** One setting to put back, with its live value and the record's. */
export type SettingChange =
  | {
      readonly setting: 'block-public-access';
      readonly live: PublicAccessBlockConfiguration | null;
      readonly restored: PublicAccessBlockConfiguration | null;
    }
  | {
      readonly setting: 'policy' | 'access-point-policy';
      readonly live: string | null;
      readonly restored: string;
    }
  | { readonly setting: 'acl' | 'object-acl'; readonly live: BucketAcl; readonly restored: BucketAcl };

/** The name of a setting a restore writes. */
export type RestoredSetting = SettingChange['setting'];

/** What a restore would do. */
export interface RestorePlan {
  /** Only the settings that differ, in the order they are shown. */
  readonly changes: readonly SettingChange[];
  /** Differences not restored, each with why. */
  readonly leftAlone: readonly string[];
}

/**
 * Compares the record with the live state. A policy is compared as JSON (S3 may reformat the text it
 * returns), an ACL as its set of grants (the owner cannot be changed through an ACL), Block Public Access
 * as its four settings (no configuration is all four off).
 *
 * @example
 * const plan = planRestore(evidence.record, live);
 * plan.changes.map((change) => change.setting); // ['block-public-access', 'policy']
 */
export function planRestore(record: RestoreRecord, live: LiveState): RestorePlan {
  const changes: SettingChange[] = [];
  const leftAlone: string[] = [];
  if (record.kind === 'bucket') {
    const liveBlockPublicAccess = live.bucket.blockPublicAccess ?? null;
    if (!sameBlockPublicAccess(liveBlockPublicAccess, record.blockPublicAccess)) {
      changes.push({
        setting: 'block-public-access',
        live: liveBlockPublicAccess,
        restored: record.blockPublicAccess,
      });
    }
    planPolicy('policy', 'bucket policy', live.bucket.policy ?? null, record.policy, changes, leftAlone);
    if (record.acl !== undefined)
      planAcl('acl', 'ACL', live.bucket.acl, record.acl, live, changes, leftAlone);
  } else if (record.kind === 'access-point') {
    const name = `access point ${record.name}'s policy`;
    planPolicy(
      'access-point-policy',
      name,
      live.accessPoint?.policy ?? null,
      record.policy,
      changes,
      leftAlone,
    );
  } else if (live.objectAcl !== undefined) {
    planAcl('object-acl', `object ${record.key}'s ACL`, live.objectAcl, record.acl, live, changes, leftAlone);
  }
  return { changes, leftAlone };
}

function planPolicy(
  setting: 'policy' | 'access-point-policy',
  name: string,
  live: string | null,
  restored: string | null | undefined,
  changes: SettingChange[],
  leftAlone: string[],
): void {
  if (restored === undefined) return;
  if (restored === null) {
    // The guard never adds a policy: one there now was written after the record. Deleting it could remove
    // Deny statements someone added since (TLS only, VPC only), which loosens access: never done here.
    if (live !== null) {
      leftAlone.push(
        `${name}: the record had none and the bucket has one now, written after the guard acted; restore never deletes a policy (it may hold Deny statements)`,
      );
    }
    return;
  }
  if (live === null || canonicalJson(live) !== canonicalJson(restored)) {
    changes.push({ setting, live, restored });
  }
}

function planAcl(
  setting: 'acl' | 'object-acl',
  name: string,
  live: BucketAcl,
  restored: BucketAcl,
  state: LiveState,
  changes: SettingChange[],
  leftAlone: string[],
): void {
  if (sameGrants(live.Grants ?? [], restored.Grants ?? [])) return;
  if (state.aclsDisabled) {
    leftAlone.push(
      `${name}: ACLs are disabled on the bucket (object ownership BucketOwnerEnforced), so an ACL has no effect and cannot be written`,
    );
    return;
  }
  changes.push({ setting, live, restored });
}

/**
 * Each part of the changes that the public judgement calls public, in words: a public policy statement or
 * ACL grant (whether or not Block Public Access would neutralise it), and a Block Public Access setting the
 * restore would turn off (a registry must keep all four on).
 *
 * @example
 * publicParts(plan, live); // ['bucket policy statement 1 (Sid "Public"): Principal is "*", ...']
 */
export function publicParts(plan: RestorePlan, live: LiveState): string[] {
  const parts: string[] = [];
  for (const change of plan.changes) {
    switch (change.setting) {
      case 'block-public-access': {
        const off = turnedOff(change.live, change.restored);
        if (off.length > 0) parts.push(`bucket Block Public Access would turn off ${off.join(', ')}`);
        break;
      }
      case 'policy':
        for (const statement of judgePolicy(change.restored, { kind: 'bucket' }).publicStatements) {
          parts.push(`bucket policy ${statement.label}: ${statement.reason}`);
        }
        break;
      case 'access-point-policy': {
        const verdict = judgeAccessPoint({
          policy: change.restored,
          networkOrigin: live.accessPoint?.networkOrigin ?? 'Internet',
        });
        for (const statement of verdict.publicStatements) {
          parts.push(`access point policy ${statement.label}: ${statement.reason}`);
        }
        break;
      }
      case 'acl':
      case 'object-acl': {
        const verdict = judgeAcl({ Grants: change.restored.Grants ?? [] });
        const where = change.setting === 'acl' ? 'ACL' : 'object ACL';
        for (const grant of verdict.publicGrants)
          parts.push(`${where} grants ${grant.permission} to ${grant.grantee}`);
        if (verdict.unreadable !== undefined) parts.push(`${where}: ${verdict.unreadable}`);
        break;
      }
    }
  }
  return parts;
}

/**
 * True when the change turns a Block Public Access setting off: it must then be written before a public
 * policy or ACL, which S3 refuses while the setting is on. A change that only turns settings on goes last.
 */
export function loosensBlockPublicAccess(change: SettingChange): boolean {
  return change.setting === 'block-public-access' && turnedOff(change.live, change.restored).length > 0;
}

function turnedOff(
  live: PublicAccessBlockConfiguration | null,
  restored: PublicAccessBlockConfiguration | null,
): string[] {
  const liveOn = judgeBlockPublicAccess(live).settingsOn;
  const restoredOn = judgeBlockPublicAccess(restored).settingsOn;
  return liveOn.filter((setting) => !restoredOn.includes(setting));
}

function sameBlockPublicAccess(
  left: PublicAccessBlockConfiguration | null,
  right: PublicAccessBlockConfiguration | null,
): boolean {
  const leftOn = judgeBlockPublicAccess(left).settingsOn;
  const rightOn = judgeBlockPublicAccess(right).settingsOn;
  return BLOCK_PUBLIC_ACCESS_SETTINGS.every(
    (setting) => leftOn.includes(setting) === rightOn.includes(setting),
  );
}

/**
 * A grant as one line: `CanonicalUser 75aa57f0... FULL_CONTROL`, `Group AllUsers READ`.
 *
 * @example
 * grantLine({ Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' });
 * // 'Group AllUsers READ'
 */
export function grantLine(grant: Grant): string {
  const grantee = grant.Grantee;
  const who =
    grantee?.URI !== undefined
      ? grantee.URI.slice(grantee.URI.lastIndexOf('/') + 1)
      : (grantee?.ID ?? grantee?.EmailAddress ?? 'unknown');
  return `${grantee?.Type ?? 'unknown'} ${who} ${grant.Permission ?? 'unknown'}`;
}

/** Grants as a multiset: the same grants in any order are the same ACL. */
function sameGrants(left: readonly Grant[], right: readonly Grant[]): boolean {
  if (left.length !== right.length) return false;
  const counts = new Map<string, number>();
  for (const grant of left) counts.set(grantKey(grant), (counts.get(grantKey(grant)) ?? 0) + 1);
  for (const grant of right) {
    const key = grantKey(grant);
    const count = counts.get(key) ?? 0;
    if (count === 0) return false;
    counts.set(key, count - 1);
  }
  return true;
}

function grantKey(grant: Grant): string {
  const grantee = grant.Grantee;
  return JSON.stringify([grantee?.Type, grantee?.ID, grantee?.URI, grantee?.EmailAddress, grant.Permission]);
}

/**
 * JSON text with object keys sorted, for comparing two policies regardless of key order and spacing.
 * Unparseable text compares as itself. The record's policies were checked shallow (restore-evidence.ts),
 * and S3 accepts only shallow ones, so the walk is short.
 */
export function canonicalJson(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(sortKeys(parsed));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([left], [right]) =>
    left < right ? -1 : left > right ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
}
