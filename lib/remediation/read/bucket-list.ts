/**
 * The buckets a scheduled sweep covers, page by page.
 */
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * Buckets asked for per ListBuckets call. S3 refuses ListBuckets without MaxBuckets for accounts whose
 * bucket quota is above 10,000; a thousand keeps a page's response small and its retry cheap.
 */
export const BUCKET_PAGE_SIZE = 1_000;

/** One page of the listing. */
export interface BucketPage {
  /** Bucket names, in S3's order. */
  readonly buckets: string[];
  /** Where the next page starts; undefined on the last page. */
  readonly nextToken?: string;
}

/**
 * Lists one page of the account's buckets in one region (every region without one): what a sweep that
 * hands out batches asks for, one page at a time, carrying `nextToken` from one call to the next.
 *
 * @example
 * let page = await listBucketPage(new S3Client({}), 'eu-west-1', undefined);
 * while (page.nextToken !== undefined) page = await listBucketPage(s3, 'eu-west-1', page.nextToken);
 */
export async function listBucketPage(
  s3: S3Client,
  region: string | undefined,
  continuationToken: string | undefined,
  pageSize: number = BUCKET_PAGE_SIZE,
): Promise<BucketPage> {
  const output = await s3.send(
    new ListBucketsCommand({
      BucketRegion: region,
      MaxBuckets: pageSize,
      ContinuationToken: continuationToken,
    }),
  );
  const buckets: string[] = [];
  for (const bucket of output.Buckets ?? []) if (bucket.Name !== undefined) buckets.push(bucket.Name);
  const token = output.ContinuationToken;
  return { buckets, nextToken: token === undefined || token === '' ? undefined : token };
}

/**
 * Lists the account's buckets in one region, every page. AWS Config is regional, so the function deployed
 * in a region sweeps that region's buckets; without a region it sweeps every bucket.
 *
 * @throws Error when S3 hands back a continuation token it already gave, rather than loop forever.
 * @example
 * const buckets = await listBucketNames(new S3Client({}), 'eu-west-1');
 */
export async function listBucketNames(
  s3: S3Client,
  region: string | undefined,
  pageSize: number = BUCKET_PAGE_SIZE,
): Promise<string[]> {
  const names: string[] = [];
  const seenTokens = new Set<string>();
  let token: string | undefined;
  do {
    const page = await listBucketPage(s3, region, token, pageSize);
    names.push(...page.buckets);
    token = page.nextToken;
    if (token !== undefined) {
      if (seenTokens.has(token)) {
        throw new Error(
          `ListBuckets returned the continuation token ${token} twice: the listing would not end`,
        );
      }
      seenTokens.add(token);
    }
  } while (token !== undefined);
  return names;
}
