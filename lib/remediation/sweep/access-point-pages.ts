/**
 * The sweep's other ways in: every access point of the account and Region, and (from us-west-2, where S3
 * routes their control calls) every Multi-Region Access Point, listed a page at a time and judged by the
 * same code the CloudTrail fast path runs. Object ACLs are not swept: listing every object of every bucket
 * costs more than the sweep may; a bucket with ACLs disabled (BucketOwnerEnforced) has none to judge.
 */
import { ListAccessPointsCommand, ListMultiRegionAccessPointsCommand } from '@aws-sdk/client-s3-control';
import { describeError } from '../aws-errors';
import { guardAccessPoint } from '../guard-access-point';
import { guardMultiRegionAccessPoint } from '../guard-multi-region-access-point';
import { BucketOutcome, unverifiableOutcome } from '../report/outcome';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';
import { JudgedBuckets, judgeEach } from './judge-buckets';
import { AccessPointScope, MAX_SWEEP_PAGES } from './messages';

/**
 * Access points judged per message: a judgement is about as many reads as a bucket's, so the same 24 a
 * batch of buckets holds fit the same time.
 */
export const ACCESS_POINT_PAGE_SIZE = 24;
/** Multi-Region Access Points per message: each can front a bucket in every Region of the account. */
export const MULTI_REGION_ACCESS_POINT_PAGE_SIZE = 4;
/** The Region S3 routes every Multi-Region Access Point control call to, and CloudTrail records them in. */
export const MULTI_REGION_CONTROL_REGION = 'us-west-2';

/** One page of names, and the token of the next (undefined after the last). */
export interface AccessPointPage {
  readonly names: readonly string[];
  /** Entries listed without a name: they cannot be judged, and must not pass unseen. */
  readonly unnamed: number;
  readonly nextToken?: string;
}

/**
 * The scopes a sweep in `region` lists: its access points everywhere, Multi-Region Access Points only in
 * us-west-2, so that every Region's guard does not judge (and page about) the same global ones.
 *
 * @example
 * accessPointScopesOf('us-west-2'); // ['regional', 'multi-region']
 */
export function accessPointScopesOf(region: string | undefined): AccessPointScope[] {
  return region === MULTI_REGION_CONTROL_REGION ? ['regional', 'multi-region'] : ['regional'];
}

/**
 * Lists one page of the account's access points or Multi-Region Access Points.
 *
 * @throws the SDK's error when the listing fails, or when S3 hands back the token it was given (the
 *   listing would not end).
 */
export async function listAccessPointPage(
  run: RunContext,
  scope: AccessPointScope,
  nextToken: string | undefined,
): Promise<AccessPointPage> {
  const page = pageOf(...(await listNames(run, scope, nextToken)));
  if (page.nextToken !== undefined && page.nextToken === nextToken) {
    throw new Error(`${scopeLabel(scope)}: the listing returned the token it was given: it would not end`);
  }
  return page;
}

/** The names one listing call returns, and its next token. */
async function listNames(
  run: RunContext,
  scope: AccessPointScope,
  nextToken: string | undefined,
): Promise<[readonly (string | undefined)[], string | undefined]> {
  const page = { AccountId: run.accountId, NextToken: nextToken };
  if (scope === 'regional') {
    const output = await run.s3Control.send(
      new ListAccessPointsCommand({ ...page, MaxResults: ACCESS_POINT_PAGE_SIZE }),
    );
    return [(output.AccessPointList ?? []).map((point) => point.Name), output.NextToken];
  }
  const output = await run.s3Control.send(
    new ListMultiRegionAccessPointsCommand({ ...page, MaxResults: MULTI_REGION_ACCESS_POINT_PAGE_SIZE }),
  );
  return [(output.AccessPoints ?? []).map((point) => point.Name), output.NextToken];
}

/**
 * Judges each access point named (read, decide, act, as the fast path does) and reports what it means for
 * the bucket behind it: a public one makes the bucket NON_COMPLIANT in Config; a private one says nothing
 * about the bucket, whose own settings its own evaluation judges.
 *
 * @example
 * const { skipped } = await judgeAccessPoints(run, report, 'regional', ['roll-analytics'], 8);
 */
export async function judgeAccessPoints(
  run: RunContext,
  report: RunReport,
  scope: AccessPointScope,
  names: readonly string[],
  concurrency: number,
): Promise<JudgedBuckets> {
  return judgeEach(run, names, concurrency, async (name) => {
    const outcomes =
      scope === 'regional'
        ? [await guardAccessPoint(run, name)]
        : await guardMultiRegionAccessPoint(run, name);
    // Each outcome says what it judged (`wayIn`), which decides its evaluation.
    for (const outcome of outcomes) await report.bucket(outcome);
  });
}

/**
 * Every page of every scope the Region sweeps, in this invocation: the sweep without a queue. Stops when
 * the invocation's time runs short. A listing that fails is reported as one outcome that could not be
 * verified (in the sweep's digest), never as nothing to judge.
 *
 * @returns how many access points were listed, and how many of them were not judged.
 */
export async function judgeAllAccessPoints(
  run: RunContext,
  report: RunReport,
  concurrency: number,
): Promise<{ readonly listed: number; readonly skipped: number }> {
  let listed = 0;
  for (const scope of accessPointScopesOf(run.region)) {
    const unverifiable = (why: string): Promise<void> => report.bucket(allOfScope(run, scope, why));
    const tokensSeen = new Set<string>();
    let nextToken: string | undefined;
    for (let pageIndex = 0; ; pageIndex++) {
      if (pageIndex >= MAX_SWEEP_PAGES) {
        await unverifiable(`the listing went on past ${MAX_SWEEP_PAGES} pages: the rest not judged`);
        break;
      }
      let page: AccessPointPage;
      try {
        page = await listAccessPointPage(run, scope, nextToken);
      } catch (error) {
        await unverifiable(`listing them failed: ${describeError(error)}`);
        break;
      }
      listed += page.names.length;
      await reportUnnamed(run, report, scope, page);
      const { skipped } = await judgeAccessPoints(run, report, scope, page.names, concurrency);
      // The time is gone: later pages would be skipped whole.
      if (skipped.length > 0) return { listed, skipped: skipped.length };
      nextToken = page.nextToken;
      if (nextToken === undefined) break;
      if (tokensSeen.has(nextToken)) {
        await unverifiable(
          'the listing handed back a token it had given before (a loop): the rest not judged',
        );
        break;
      }
      tokensSeen.add(nextToken);
    }
  }
  return { listed, skipped: 0 };
}

function scopeLabel(scope: AccessPointScope): string {
  return scope === 'regional' ? 'access point' : 'Multi-Region Access Point';
}

function pageOf(listed: readonly (string | undefined)[], token: string | undefined): AccessPointPage {
  const names = listed.filter((name): name is string => name !== undefined && name !== '');
  return {
    names,
    unnamed: listed.length - names.length,
    nextToken: token === undefined || token === '' ? undefined : token,
  };
}

/**
 * Reports what a page listed but cannot be judged (entries without a name) as one outcome that could not
 * be verified.
 *
 * @example
 * await reportUnnamed(run, report, 'regional', page);
 */
export async function reportUnnamed(
  run: RunContext,
  report: RunReport,
  scope: AccessPointScope,
  page: AccessPointPage,
): Promise<void> {
  if (page.unnamed === 0) return;
  await report.bucket(allOfScope(run, scope, `${page.unnamed} listed without a name, so not judged`));
}

/** The account's access points (or Multi-Region Access Points) as a whole could not be verified: why. */
function allOfScope(run: RunContext, scope: AccessPointScope, why: string): BucketOutcome {
  return {
    ...unverifiableOutcome(`${scopeLabel(scope)}s of account ${run.accountId}`, why),
    wayIn: {
      kind: scope === 'regional' ? 'access-points' : 'multi-region-access-points',
      accountId: run.accountId,
    },
  };
}
