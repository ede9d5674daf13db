/**
 * Security Hub findings for one invocation (SECURITY_HUB_FINDINGS): each remediation, failed remediation and
 * unverifiable bucket becomes a finding (security-hub-finding.ts), and a bucket found closed again has its
 * open findings resolved. A finding raised through a way in (an access point, a Multi-Region Access Point,
 * an object's ACL) is about that way in, and only a later judgement of the same way in resolves it. Reporting, never acting: the report stage hands outcomes over after the bucket was
 * dealt with, and whatever Security Hub refuses is logged and counted, never undone nor retried by failing
 * the invocation (the SNS notice is the channel that is delivered at least once).
 *
 * Findings go out in BatchImportFindings calls of at most 100, in the order they were made (one finding
 * twice in a batch keeps only its latest), and each call's partial failures (FailedFindings) are read one by
 * one. A finding is resolved in two steps: imported again as PASSED and ARCHIVED (so that the bucket opening
 * again later makes Security Hub put its workflow back to NEW), then BatchUpdateFindings sets its workflow
 * to RESOLVED, the one field a provider's import may not change.
 */
import type { AwsSecurityFinding, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { describeError } from '../aws-errors';
import { RunContext, TriggerKind } from '../run-context';
import { securityHubSdk } from '../sdk/on-demand';
import type * as SecurityHubSdkModule from '../sdk/security-hub-sdk';
import { OpenFindings } from './open-findings';
import { BucketOutcome } from './outcome';
import {
  composeFinding,
  FindingContext,
  FindingKind,
  findingKindOf,
  historyOf,
  resolvedFinding,
  subjectKeyOf,
  unreadWayInKeyOf,
} from './security-hub-finding';

/** What the guard uses of Security Hub's SDK (sdk/security-hub-sdk.ts). */
type SecurityHubSdk = typeof SecurityHubSdkModule;

/** BatchImportFindings and BatchUpdateFindings take at most 100 findings a call. */
export const MAX_FINDINGS_PER_CALL = 100;
/** Who BatchUpdateFindings names as the author of the note it adds on resolving. */
export const NOTE_AUTHOR = 'registry-guard';

/** What happened to one invocation's findings; part of the invocation's result. */
export interface SecurityHubDelivery {
  /** Findings Security Hub accepted as new or updated (ACTIVE). */
  readonly imported: number;
  /** Open findings moved to RESOLVED because their bucket was found closed. */
  readonly resolved: number;
  /** Findings Security Hub refused, or that could not be sent or resolved: each is logged with why. */
  readonly failed: number;
}

/** Triggers that judge a bucket's own settings: only their COMPLIANT says the bucket is closed. */
const BUCKET_JUDGING_TRIGGERS: ReadonlySet<TriggerKind> = new Set<TriggerKind>([
  'config-change',
  'config-scheduled',
  'bucket-api-call',
]);

/** One finding on its way: new or updated (`import`), or what it is about found closed (`resolve`). */
interface Pending {
  readonly operation: 'import' | 'resolve';
  /** What the finding is about: its key (`subjectKeyOf`), a bucket's name for the bucket's own settings. */
  readonly subject: string;
  readonly kind: FindingKind;
  readonly finding: AwsSecurityFinding;
}

/** One invocation's findings: queued as outcomes arrive, sent in batches, counted. */
export class SecurityHubFindings {
  private queue: Pending[] = [];
  private imported = 0;
  private resolved = 0;
  private failed = 0;
  /** Calls run one after the other, so a later change of a finding is never overtaken by an earlier one. */
  private sending: Promise<void> = Promise.resolve();
  private readonly open: OpenFindings | undefined;

  /**
   * @param run the invocation; with SECURITY_HUB_FINDINGS off, {@link SecurityHubFindings.of} makes none.
   */
  constructor(private readonly run: RunContext) {
    const evidenceBucket = run.settings.evidenceBucket;
    // Remembering needs writes to the evidence bucket: remediate mode only, like every record of the guard.
    this.open =
      run.settings.mode === 'remediate' && evidenceBucket !== undefined
        ? new OpenFindings(
            run,
            evidenceBucket,
            run.triggerKind === 'config-scheduled' ? 'whole-list' : 'per-bucket',
          )
        : undefined;
  }

  /**
   * The run's findings, or undefined when SECURITY_HUB_FINDINGS is off.
   *
   * @example
   * const findings = SecurityHubFindings.of(run);
   */
  static of(run: RunContext): SecurityHubFindings | undefined {
    return run.settings.securityHubFindings ? new SecurityHubFindings(run) : undefined;
  }

  /**
   * Takes one outcome: a finding when it is a remediation, a failed remediation or an unverifiable bucket;
   * the open findings of what it judged resolved when that was found closed: the bucket's own when it was
   * judged closed on its own settings, a way in's (`outcome.wayIn`) when that same way in was. An access
   * point read again (or found gone) also resolves what was raised when it could not be read. Sends a batch once 100 are
   * waiting. Never throws.
   *
   * @param judgedBucket true when the outcome judged the bucket's own settings (not an access point or an
   *   object's ACL, whose COMPLIANT says nothing about the bucket)
   * @example
   * await findings.add(outcome, true);
   */
  async add(outcome: BucketOutcome, judgedBucket: boolean): Promise<void> {
    const kind = findingKindOf(outcome);
    const subject = subjectKeyOf(outcome);
    if (kind !== undefined) {
      const context = this.context();
      if (context === undefined) return;
      const earlier = await this.openFinding(subject, kind);
      this.enqueue({
        operation: 'import',
        subject,
        kind,
        finding: composeFinding(
          outcome,
          kind,
          context,
          earlier === undefined ? undefined : historyOf(earlier),
        ),
      });
    } else if (this.showsClosed(outcome, judgedBucket)) {
      await this.resolveOpen(subject);
    }
    // The access point was read, or is gone: what was raised when it could not be read no longer holds.
    const unread = unreadWayInKeyOf(outcome);
    if (unread !== undefined) await this.resolveOpen(unread);
    if (this.queue.length >= MAX_FINDINGS_PER_CALL) await this.send();
  }

  /**
   * True when the outcome shows what it judged closed: the bucket's own settings judged COMPLIANT by a
   * trigger that judges them, or a way in judged COMPLIANT (only a judgement of that way in names it).
   */
  private showsClosed(outcome: BucketOutcome, judgedBucket: boolean): boolean {
    if (outcome.compliance !== 'COMPLIANT') return false;
    if (outcome.wayIn !== undefined) return true;
    return judgedBucket && BUCKET_JUDGING_TRIGGERS.has(this.run.triggerKind);
  }

  /**
   * Sends what is still waiting and says what happened to the run's findings. Never throws.
   *
   * @example
   * const delivery = await findings.flush(); // { imported: 1, resolved: 0, failed: 0 }
   */
  async flush(): Promise<SecurityHubDelivery> {
    await this.send();
    const delivery = { imported: this.imported, resolved: this.resolved, failed: this.failed };
    if (delivery.imported + delivery.resolved + delivery.failed > 0) {
      const log = delivery.failed > 0 ? this.run.logger.error : this.run.logger.info;
      log.call(this.run.logger, 'Security Hub findings sent', { ...delivery, trigger: this.run.trigger });
    }
    return delivery;
  }

  /** What every finding of the run says besides its outcome; undefined (logged) without a Region. */
  private context(): FindingContext | undefined {
    if (this.run.region === undefined) {
      this.failed += 1;
      this.run.logger.error('Security Hub finding not sent: the guard cannot tell its Region', {
        trigger: this.run.trigger,
      });
      return undefined;
    }
    return {
      accountId: this.run.accountId,
      region: this.run.region,
      mode: this.run.settings.mode,
      trigger: this.run.trigger,
      now: this.run.now(),
    };
  }

  /** The finding as last imported, when the guard remembers it open; undefined when not, or unreadable. */
  private async openFinding(subject: string, kind: FindingKind): Promise<AwsSecurityFinding | undefined> {
    if (this.open === undefined) return undefined;
    try {
      if (!(await this.open.kindsOf(subject)).includes(kind)) return undefined;
      return await this.open.read(subject, kind);
    } catch (error) {
      // The update then starts the finding's history anew: a wrong CreatedAt, never a lost finding.
      this.run.logger.warn('Open Security Hub finding not read: its update starts its history anew', {
        subject,
        kind,
        error: describeError(error),
      });
      return undefined;
    }
  }

  /** Queues the resolution of every finding the guard remembers open for a subject found closed. */
  private async resolveOpen(subject: string): Promise<void> {
    if (this.open === undefined) return;
    let kinds: FindingKind[];
    try {
      kinds = await this.open.kindsOf(subject);
    } catch (error) {
      this.run.logger.warn('Open Security Hub findings not listed: none resolved now, the next run tries', {
        subject,
        error: describeError(error),
      });
      return;
    }
    for (const kind of kinds) {
      try {
        // The latest state of the finding: an update this run made and has not sent yet, else the record.
        const waiting = this.queue.find(
          (pending) => pending.subject === subject && pending.kind === kind && pending.operation === 'import',
        );
        const open = waiting?.finding ?? (await this.open.read(subject, kind));
        if (open === undefined) continue;
        this.enqueue({ operation: 'resolve', subject, kind, finding: resolvedFinding(open, this.run.now()) });
      } catch (error) {
        this.failed += 1;
        this.run.logger.error('Open Security Hub finding unreadable: not resolved, its record is kept', {
          subject,
          kind,
          error: describeError(error),
        });
      }
    }
  }

  /** Queues one change of a finding; a change of the same finding still waiting is replaced by it. */
  private enqueue(pending: Pending): void {
    this.queue = this.queue.filter((waiting) => waiting.finding.Id !== pending.finding.Id);
    this.queue.push(pending);
  }

  /** Sends everything waiting, 100 at a time, after whatever is being sent already. */
  private send(): Promise<void> {
    this.sending = this.sending.then(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_FINDINGS_PER_CALL);
        try {
          await this.sendBatch(batch);
        } catch (error) {
          // A bug here must not fail the invocation nor every later batch: the batch is counted and logged.
          this.refuse(batch, `sending failed: ${describeError(error)}`);
        }
      }
    });
    return this.sending;
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const sdk = this.sdk(batch);
    if (sdk === undefined) return;
    const { client, BatchImportFindingsCommand } = sdk;
    let refused: Map<string, string>;
    try {
      const output = await client.send(
        new BatchImportFindingsCommand({ Findings: batch.map((pending) => pending.finding) }),
      );
      refused = new Map(
        (output.FailedFindings ?? []).map((failure) => [
          failure.Id ?? '',
          `${failure.ErrorCode ?? 'unknown'}: ${failure.ErrorMessage ?? 'no message'}`,
        ]),
      );
      // A count without the list that names them: which ones is unknown, so none is taken as accepted.
      if ((output.FailedCount ?? 0) > refused.size) {
        this.refuse(batch, `Security Hub counted ${output.FailedCount} failed without naming them`);
        return;
      }
    } catch (error) {
      this.refuse(batch, `BatchImportFindings failed: ${describeError(error)}`);
      return;
    }
    const toResolve: Pending[] = [];
    for (const pending of batch) {
      const why = refused.get(pending.finding.Id ?? '');
      if (why !== undefined) {
        this.refuse([pending], `Security Hub refused it (${why})`);
      } else if (pending.operation === 'import') {
        this.imported += 1;
        await this.remember(pending);
      } else {
        toResolve.push(pending);
      }
    }
    if (toResolve.length > 0) await this.moveToResolved(client, sdk.BatchUpdateFindingsCommand, toResolve);
  }

  /** BatchUpdateFindings: the workflow of findings re-imported as closed moves to RESOLVED. */
  private async moveToResolved(
    client: SecurityHubClient,
    BatchUpdateFindingsCommand: SecurityHubSdk['BatchUpdateFindingsCommand'],
    batch: Pending[],
  ): Promise<void> {
    let unprocessed: Map<string, string>;
    let processed: Set<string>;
    try {
      const output = await client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: batch.map((pending) => ({
            Id: pending.finding.Id,
            ProductArn: pending.finding.ProductArn,
          })),
          Workflow: { Status: 'RESOLVED' },
          Note: {
            Text: `registry-guard found what this finding is about closed (or, unread before, read) at ${this.run.now().toISOString()}.`,
            UpdatedBy: NOTE_AUTHOR,
          },
        }),
      );
      unprocessed = new Map(
        (output.UnprocessedFindings ?? []).map((failure) => [
          failure.FindingIdentifier?.Id ?? '',
          `${failure.ErrorCode ?? 'unknown'}: ${failure.ErrorMessage ?? 'no message'}`,
        ]),
      );
      processed = new Set((output.ProcessedFindings ?? []).map((identifier) => identifier.Id ?? ''));
    } catch (error) {
      this.refuse(
        batch,
        `BatchUpdateFindings failed: ${describeError(error)}; its record is kept, the next run retries`,
      );
      return;
    }
    for (const pending of batch) {
      // Only a finding Security Hub names as processed is resolved; anything else is tried again next time.
      const id = pending.finding.Id ?? '';
      const why = processed.has(id) ? undefined : (unprocessed.get(id) ?? 'not named as processed');
      if (why !== undefined) {
        this.refuse(
          [pending],
          `its workflow was not set to RESOLVED (${why}); its record is kept, the next run retries`,
        );
        continue;
      }
      this.resolved += 1;
      const failure = await this.open?.forget(pending.subject, pending.kind);
      if (failure !== undefined) {
        this.run.logger.warn('Resolved Security Hub finding still recorded open: resolved again next time', {
          subject: pending.subject,
          kind: pending.kind,
          error: failure,
        });
      }
    }
  }

  /** Records an accepted finding as open, so what it is about found closed resolves it. */
  private async remember(pending: Pending): Promise<void> {
    if (this.open === undefined) return;
    const failure = await this.open.remember(pending.subject, pending.kind, pending.finding);
    if (failure !== undefined) {
      this.run.logger.warn('Security Hub finding not recorded open: it will not be resolved by the guard', {
        subject: pending.subject,
        kind: pending.kind,
        error: failure,
      });
    }
  }

  /** The client; undefined (every finding of the batch counted failed and logged) when the handler has none. */
  /**
   * The client and the commands; undefined, with the batch counted failed and logged, when the handler was
   * given no client or the SDK cannot be loaded (a bundle shipped without security-hub-sdk.js).
   */
  private sdk(batch: readonly Pending[]): (SecurityHubSdk & { client: SecurityHubClient }) | undefined {
    let client: SecurityHubClient | undefined;
    let sdk: SecurityHubSdk;
    try {
      client = this.run.securityHub;
      sdk = securityHubSdk();
    } catch (error) {
      this.refuse(batch, `the Security Hub SDK could not be loaded: ${describeError(error)}`);
      return undefined;
    }
    if (client === undefined) {
      this.refuse(batch, 'SECURITY_HUB_FINDINGS is on but the handler was given no Security Hub client');
      return undefined;
    }
    return { ...sdk, client };
  }

  /** Counts findings as failed, with one log line for all of them. */
  private refuse(batch: readonly Pending[], why: string): void {
    this.failed += batch.length;
    const resolving = batch.every((pending) => pending.operation === 'resolve');
    this.run.logger.error(
      `Security Hub ${resolving ? 'findings not resolved' : 'findings not sent'}: ${why}`,
      {
        findings: batch.map((pending) => ({
          subject: pending.subject,
          kind: pending.kind,
          operation: pending.operation,
          id: pending.finding.Id,
        })),
        trigger: this.run.trigger,
      },
    );
  }
}
