/**
 * `registry-guard restore s3://EVIDENCE_BUCKET/KEY --version-id V --sha256 HEX [--apply] [--exempt-days N]`:
 * read the record and verify it, read the live settings, show the difference, and with --apply put back
 * what differs. See {@link RESTORE_USAGE} for the rules and the exit codes.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readExemption } from '../remediation/decide/exemption';
import { readGuardSettings } from '../remediation/settings';
import { ApplyFailure, applyRestore, withExemption } from './restore-apply';
import { parseRestoreArgs, RESTORE_USAGE, RestoreOptions } from './restore-args';
import { planRestore, publicParts } from './restore-diff';
import { isRestoreStop, RESTORE_EXIT_AWS, RESTORE_EXIT_OK, RestoreStop } from './restore-errors';
import { readEvidence, VerifiedEvidence } from './restore-evidence';
import { LiveState, readLiveState, RestoreClients } from './restore-live';
import {
  ExemptionTags,
  renderRestoreJson,
  renderRestoreText,
  RestoreReport,
  SETTING_NAMES,
} from './restore-report';

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
 * SDK v3 waits forever by default; a stalled call must end the restore (exit 4, naming what was done)
 * instead. Each call is small, so 8 s is ample, and three attempts still end within half a minute.
 */
const CONNECTION_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 8_000;

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
  const ledgerBucket = guardEvidenceBucket(options, env);
  const evidence = await readEvidence(clientsFor(options.region).s3, {
    location: options.evidence,
    versionId: options.versionId,
    sha256: options.sha256,
  });
  const record = evidence.record;
  const clients = clientsFor(options.region ?? record.region);
  const live = await readLiveState(clients, record, ledgerBucket);
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
  const { applied, failure } = await applyRestore({ clients, record, live, plan, exemption });
  const report: RestoreReport = { ...base, mode: 'apply', exemption, warnings, applied };
  if (failure !== undefined) {
    const readBack = await readBackFailure(clients, evidence, ledgerBucket, failure, exemption);
    print({ ...report, failure: { step: failure.step, reason: failure.reason, readBack: readBack.text } });
    // "Failed" needs no more words when the read-back confirms it; otherwise it says what is in place.
    throw new RestoreStop(
      'aws',
      `${record.bucket}: ${failure.step} failed: ${failure.reason}; already done: ${applied.length === 0 ? 'nothing' : applied.join('; ')}${readBack.inPlace === false ? '' : `; read back: ${readBack.text}`}`,
    );
  }
  const remaining = planRestore(record, await readLiveState(clients, record, ledgerBucket)).changes;
  const changedAgain = remaining.map((change) => change.setting);
  print(changedAgain.length > 0 ? { ...report, changedAgain } : report);
  if (remaining.length > 0) {
    throw new RestoreStop(
      'aws',
      `${record.bucket}: read back after the restore: ${changedAgain.join(', ')} still differ from the record (something changed them again?)`,
    );
  }
  return RESTORE_EXIT_OK;
}

/**
 * A failed write may still have been applied (S3 applied it, the answer was lost): reads the bucket again
 * and says whether the failed write's setting is in place now (`inPlace` undefined: the read failed too).
 * Never throws.
 */
async function readBackFailure(
  clients: RestoreClients,
  evidence: VerifiedEvidence,
  ledgerBucket: string,
  failure: ApplyFailure,
  exemption: ExemptionTags | undefined,
): Promise<{ readonly inPlace?: boolean; readonly text: string }> {
  const what =
    failure.setting === 'exemption' ? 'the exemption tags' : `the ${SETTING_NAMES[failure.setting]}`;
  let live: LiveState;
  try {
    live = await readLiveState(clients, evidence.record, ledgerBucket);
  } catch (error) {
    const text = (error as { message?: unknown } | null)?.message;
    return {
      text: `${what} may have been applied: reading the bucket again failed too (${String(text).split('\n')[0]})`,
    };
  }
  const inPlace =
    failure.setting === 'exemption'
      ? exemption !== undefined && hasExemption(live, exemption)
      : !planRestore(evidence.record, live).changes.some((change) => change.setting === failure.setting);
  return {
    inPlace,
    text: inPlace
      ? `${what} is in place after all (S3 applied it, but its answer was lost)`
      : `${what} is not in place`,
  };
}

function hasExemption(live: LiveState, exemption: ExemptionTags): boolean {
  const wanted = withExemption([], exemption);
  return wanted.every((tag) =>
    live.bucket.tags.some((liveTag) => liveTag.Key === tag.Key && liveTag.Value === tag.Value),
  );
}

/**
 * The bucket whose registry ledger is read: the guard's evidence bucket (--guard-evidence-bucket, else
 * EVIDENCE_BUCKET), else the one the URI names. A record elsewhere would escape the guard's ledger, so it is
 * refused unless --other-evidence-bucket says it was copied on purpose (the ledger is still the guard's).
 */
function guardEvidenceBucket(
  options: RestoreOptions,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const location = options.evidence;
  const fromEnv = env.EVIDENCE_BUCKET === '' ? undefined : env.EVIDENCE_BUCKET;
  const guardBucket = options.guardEvidenceBucket ?? fromEnv;
  if (guardBucket === undefined) return location.bucket;
  if (guardBucket !== location.bucket && !options.otherEvidenceBucket) {
    throw new RestoreStop(
      'evidence-refused',
      `${location.uri}: not in the guard's evidence bucket ${guardBucket}, whose registry ledger the restore reads; pass --other-evidence-bucket if the record was copied on purpose`,
    );
  }
  return guardBucket;
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
 * `bucket.localhost` does not resolve, and S3 Control's account prefix (`123456789012.localhost`) is dropped
 * from the host for the same reason. A bucket in another region is followed by its redirect. Every call
 * times out (connection 5 s, request 8 s), so a stalled connection cannot hang a half-applied restore.
 */
function defaultClients(
  region: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): RestoreClients {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  });
  const s3 = new S3Client({
    region,
    followRegionRedirects: true,
    forcePathStyle: endpoint !== undefined && endpoint !== '',
    requestHandler,
  });
  const controlEndpoint = env.AWS_ENDPOINT_URL_S3_CONTROL ?? env.AWS_ENDPOINT_URL;
  let s3Control: S3ControlClient | undefined;
  const buildS3Control = (): S3ControlClient => {
    const client = new S3ControlClient({ region, requestHandler });
    if (controlEndpoint !== undefined && controlEndpoint !== '') keepEndpointHost(client, controlEndpoint);
    return client;
  };
  return { s3, s3Control: () => (s3Control ??= buildS3Control()) };
}

/**
 * S3 Control puts the account id in front of the endpoint's host; on a custom endpoint (moto, LocalStack)
 * that host (`123456789012.localhost`) often does not resolve, so the request goes to the endpoint's own host.
 */
function keepEndpointHost(client: S3ControlClient, endpoint: string): void {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return;
  }
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { hostname?: string; headers?: Record<string, string> };
      if (
        request.hostname !== undefined &&
        /^\d{12}\./.test(request.hostname) &&
        request.hostname.endsWith(`.${host}`)
      ) {
        request.hostname = host;
        if (request.headers?.host !== undefined)
          request.headers.host = request.headers.host.replace(/^\d{12}\./, '');
      }
      return next(args);
    },
    { step: 'build', name: 'registryGuardEndpointHost' },
  );
}
