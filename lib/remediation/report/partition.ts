/**
 * The AWS partition of a Region, for the ARNs a report names (a bucket's, Security Hub's product): the
 * function knows its Region, not its partition.
 */

/**
 * The partition of a Region: China and GovCloud Regions have their own, and so do the ISO Regions.
 *
 * @example
 * partitionOf('cn-north-1'); // 'aws-cn'
 * partitionOf('eu-west-1'); // 'aws'
 */
export function partitionOf(region: string): string {
  const partitions: [prefix: string, partition: string][] = [
    ['cn-', 'aws-cn'],
    ['us-gov-', 'aws-us-gov'],
    ['us-isob-', 'aws-iso-b'],
    ['us-iso-', 'aws-iso'],
    ['eu-isoe-', 'aws-iso-e'],
    ['us-isof-', 'aws-iso-f'],
  ];
  return partitions.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/**
 * A bucket's ARN (bucket ARNs name neither account nor Region).
 *
 * @example
 * bucketArnOf('roll', 'eu-west-1'); // 'arn:aws:s3:::roll'
 */
export function bucketArnOf(bucket: string, region: string): string {
  return `arn:${partitionOf(region)}:s3:::${bucket}`;
}
