/**
 * The buckets a scheduled sweep covers.
 */
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * Lists the account's buckets in one region, following ContinuationToken. AWS Config is regional, so the
 * function deployed in a region sweeps that region's buckets; without a region it sweeps every bucket.
 *
 * @example
 * const buckets = await listBucketNames(new S3Client({}), 'eu-west-1');
 */
export async function listBucketNames(s3: S3Client, region: string | undefined): Promise<string[]> {
  const names: string[] = [];
  let continuationToken: string | undefined;
  do {
    // No MaxBuckets: S3 then returns up to 10,000 a page (and moto ignores pagination unless asked).
    const page = await s3.send(
      new ListBucketsCommand({ BucketRegion: region, ContinuationToken: continuationToken }),
    );
    for (const bucket of page.Buckets ?? []) if (bucket.Name !== undefined) names.push(bucket.Name);
    continuationToken = page.ContinuationToken;
  } while (continuationToken !== undefined && continuationToken !== '');
  return names;
}
