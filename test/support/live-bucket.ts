/**
 * A bucket's live settings as the test reads them back from moto, for assertions after the guard acted:
 * undefined when the setting is not configured.
 */
import { GetBucketPolicyCommand, GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';

/** The bucket's own Block Public Access, or undefined when it has none. */
export async function liveBlockPublicAccess(s3: S3Client, bucket: string): Promise<unknown> {
  try {
    return (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))
      .PublicAccessBlockConfiguration;
  } catch {
    return undefined;
  }
}

/** The bucket policy's text, or undefined when it has none. */
export async function livePolicy(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  } catch {
    return undefined;
  }
}
