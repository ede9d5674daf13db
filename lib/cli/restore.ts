/**
 * `registry-guard restore s3://EVIDENCE_BUCKET/KEY --version-id V --sha256 HEX [--apply] [--exempt-days N]`:
 * read the record and verify it, read the live settings, show the difference, and with --apply put back
 * what differs. See {@link RESTORE_USAGE} for the rules and the exit codes.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { readExemption } from '../remediation/decide/exemption';
import { readGuardSettings } from '../remediation/settings';
import { applyRestore, withExemption } from './restore-apply';
import { parseRestoreArgs, RESTORE_USAGE, RestoreOptions } from './restore-args';
import { planRestore, publicParts } from './restore-diff';
import { isRestoreStop, RESTORE_EXIT_AWS, RESTORE_EXIT_OK, RestoreStop } from './restore-errors';
import { readEvidence, VerifiedEvidence } from './restore-evidence';
import { LiveState, readLiveState, RestoreClients } from './restore-live';
import { ExemptionTags, renderRestoreJson, renderRestoreText, RestoreReport } from './restore-report';

/** Where the restore writes. `CliIo` fits. */
export interface RestoreIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** What the restore reads from outside its arguments. Tests pass their own. */
export interface RestoreDependencies {
  /** Builds the clients for a region (undefined: the SDK's own chain). @default real SDK v3 clients */
  readonly clients?: (region: string | undefined) => RestoreClients;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default the real clock */
  readonly now?: () => Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Runs `registry-guard restore` and returns its exit code. Never throws: every stop is one line on stderr.
 *
 * @example
 * const code = await runRestore(['s3://guard-evidence/roll/x.json', '--version-id', 'v1', '--sha256', hex], {
 *   stdout: (text) => process.stdout.write(text),
 *   stderr: (text) => process.stderr.write(text),
 * });
 */
export async function runRestore(
  args: readonly string[],
  io: RestoreIo,
  dependencies: RestoreDependencies = {},
): Promise<number> {
  try {
    return await restore(args, io, dependencies);
  } catch (error) {
    if (isRestoreStop(error)) {
      io.stderr(`registry-guard: ${error.message}\n`);
      return error.exitCode;
    }
    const text = (error as { message?: unknown } | null)?.message;
    const message = (typeof text === 'string' ? text : String(error)).split('\n')[0];
    io.stderr(`registry-guard: ${new RestoreStop('aws', `restore failed: ${message}`).message}\n`);
    return RESTORE_EXIT_AWS;
  }
}

async function restore(
  args: readonly string[],
  io: RestoreIo,
  dependencies: RestoreDependencies,
): Promise<number> {
  const env = dependencies.env ?? process.env;
  const now = (dependencies.now ?? (() => new Date()))();
  // The same maximum, from the same variable and default, as the guard's function.
  const maxExemptionDays = readGuardSettings(env).maxExemptionDays;
  const options = parseRestoreArgs(args, { maxExemptionDays });
  if (options === 'help') {
    io.stdout(RESTORE_USAGE);
    return RESTORE_EXIT_OK;
  }
  const clientsFor = dependencies.clients ?? ((region: string | undefined) => defaultClients(region, env));
  const evidence = await readEvidence(clientsFor(options.region).s3, {
    location: options.evidence,
    versionId: options.versionId,
    sha256: options.sha256,
  });
  const record = evidence.record;
  const clients = clientsFor(options.region ?? record.region);
  const live = await readLiveState(clients, record, evidence.location.bucket);
  const plan = planRestore(record, live);
  const parts = publicParts(plan, live);
  const base = { evidence, registry: live.registry, plan, applied: [] as string[] };
  const print = (report: RestoreReport): void =>
    io.stdout(options.format === 'json' ? renderRestoreJson(report) : renderRestoreText(report));

  if (live.registry.isRegistry) {
    if (options.exemptDays !== undefined) {
      throw new RestoreStop(
        'refused-public',
        `${record.bucket}: refused: --exempt-days on a registry bucket; a registry is never exempt (${live.registry.reasons.join('; ')})`,
      );
    }
    if (parts.length > 0) {
      print({ ...base, mode: options.apply ? 'apply' : 'dry-run', warnings: [], refusedPublic: parts });
      throw new RestoreStop(
        'refused-public',
        `${record.bucket}: refused: a registry bucket is never made public again, and what would be put back is (${parts[0]}${parts.length > 1 ? `, and ${parts.length - 1} more` : ''}); nothing was changed`,
      );
    }
  }
  const exemption =
    options.exemptDays === undefined || plan.changes.length === 0
      ? undefined
      : exemptionFor(options, evidence, now, live, maxExemptionDays);
  const warnings = warningsFor(options, evidence, live, parts, exemption, now, maxExemptionDays);
  if (!options.apply || plan.changes.length === 0) {
    print({ ...base, mode: options.apply ? 'apply' : 'dry-run', exemption, warnings });
    return RESTORE_EXIT_OK;
  }
  const applied = await applyRestore({ clients, record, live, plan, exemption });
  const report: RestoreReport = { ...base, mode: 'apply', exemption, warnings, applied };
  const remaining = planRestore(
    record,
    await readLiveState(clients, record, evidence.location.bucket),
  ).changes;
  print(report);
  if (remaining.length > 0) {
    throw new RestoreStop(
      'aws',
      `${record.bucket}: read back after the restore: ${remaining.map((change) => change.setting).join(', ')} still differ from the record (something changed them again?)`,
    );
  }
  return RESTORE_EXIT_OK;
}

/** The two exemption tags, checked with the guard's own reading so the guard will honour them. */
function exemptionFor(
  options: RestoreOptions,
  evidence: VerifiedEvidence,
  now: Date,
  live: LiveState,
  maxExemptionDays: number,
): ExemptionTags {
  const days = options.exemptDays as number;
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const exemption = {
    reason:
      options.exemptReason ??
      `restored from evidence ${evidence.record.evidenceId} with registry-guard restore`,
    expires: new Date(today + days * DAY_MS).toISOString().slice(0, 10),
  };
  const reading = readExemption(withExemption(live.bucket.tags, exemption), now, maxExemptionDays);
  if (reading.status !== 'valid') {
    throw new RestoreStop(
      'usage',
      `${evidence.record.bucket}: the exemption would not hold: ${reading.status === 'invalid' ? reading.why : 'no tags'}`,
    );
  }
  return exemption;
}

function warningsFor(
  options: RestoreOptions,
  evidence: VerifiedEvidence,
  live: LiveState,
  parts: readonly string[],
  exemption: ExemptionTags | undefined,
  now: Date,
  maxExemptionDays: number,
): string[] {
  const warnings: string[] = [];
  if (options.exemptDays !== undefined && exemption === undefined) {
    warnings.push('nothing to restore, so no exemption was written');
  }
  if (options.sha256 === undefined) {
    warnings.push(
      'no --sha256: the record was checked only against the checksum S3 stored, which proves its bytes are intact, not that the guard wrote them',
    );
  }
  const exempt =
    exemption !== undefined || readExemption(live.bucket.tags, now, maxExemptionDays).status === 'valid';
  if (parts.length > 0 && !exempt) {
    warnings.push(
      `what would be put back is public (${parts[0]}${parts.length > 1 ? `, and ${parts.length - 1} more` : ''}); the guard will close ${evidence.record.bucket} again unless it is exempt: add --exempt-days N`,
    );
  }
  return warnings;
}

/**
 * Real clients from the standard credential chain. SDK v3 reads AWS_ENDPOINT_URL (and
 * AWS_ENDPOINT_URL_S3) itself; with such an endpoint (moto, LocalStack, MinIO) S3 is addressed by path, since
 * `bucket.localhost` does not resolve. A bucket in another region is followed by its redirect.
 */
function defaultClients(
  region: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): RestoreClients {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const s3 = new S3Client({
    region,
    followRegionRedirects: true,
    forcePathStyle: endpoint !== undefined && endpoint !== '',
  });
  let s3Control: S3ControlClient | undefined;
  return { s3, s3Control: () => (s3Control ??= new S3ControlClient({ region })) };
}
