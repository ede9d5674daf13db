/**
 * Answers a CloudFormation custom resource request: one HTTPS PUT of a small JSON document to the
 * pre-signed ResponseURL the request carries. Until it arrives the stack waits (an hour by default), so the
 * answer is sent exactly once per request, kept well under CloudFormation's 4096-byte limit, and a failure
 * to send it is an error for the caller to raise.
 */
import * as http from 'http';
import * as https from 'https';

/** CloudFormation rejects a response body larger than this. */
export const MAX_RESPONSE_BYTES = 4096;
/** Reasons are for a person reading the stack's events: one line, and short. */
export const MAX_REASON_LENGTH = 1000;
/** How long one PUT may take before it counts as failed. */
export const RESPONSE_TIMEOUT_MS = 15_000;

/** What identifies a request, echoed in its response, and where the response goes. */
export interface CloudFormationRequestIds {
  /** The pre-signed S3 URL to PUT the response to. */
  readonly responseUrl: string;
  readonly stackId: string;
  readonly requestId: string;
  readonly logicalResourceId: string;
}

/** The answer to one request. */
export interface CloudFormationResponse {
  readonly status: 'SUCCESS' | 'FAILED';
  /** Shown in the stack's events; required in practice for FAILED. One line, cut to {@link MAX_REASON_LENGTH}. */
  readonly reason: string;
  /** The same for every Create and Update of one resource, or CloudFormation deletes the "old" one. */
  readonly physicalResourceId: string;
  /** Attributes `Fn::GetAtt` can read; string values only. */
  readonly data: Readonly<Record<string, string>>;
}

/**
 * The response document, as the bytes to send: never more than {@link MAX_RESPONSE_BYTES}, the reason
 * shortened first (to one line) when it would not fit.
 *
 * @example
 * const body = cloudFormationResponseBody(request, {
 *   status: 'SUCCESS',
 *   reason: 'Account 123456789012: account-level Block Public Access was already all on; nothing changed',
 *   physicalResourceId: 'registry-guard-account-block-public-access-123456789012',
 *   data: { SettingsTurnedOn: 'none' },
 * });
 * JSON.parse(body).Status; // 'SUCCESS'
 */
export function cloudFormationResponseBody(
  request: CloudFormationRequestIds,
  response: CloudFormationResponse,
): string {
  const render = (reason: string): string =>
    JSON.stringify({
      Status: response.status,
      Reason: reason,
      PhysicalResourceId: response.physicalResourceId,
      StackId: request.stackId,
      RequestId: request.requestId,
      LogicalResourceId: request.logicalResourceId,
      NoEcho: false,
      Data: response.data,
    });
  let reason = oneLine(response.reason, MAX_REASON_LENGTH);
  let body = render(reason);
  while (Buffer.byteLength(body) > MAX_RESPONSE_BYTES && reason.length > 0) {
    const excess = Buffer.byteLength(body) - MAX_RESPONSE_BYTES;
    reason = oneLine(reason, Math.max(0, reason.length - excess - 1));
    body = render(reason);
  }
  return body;
}

/**
 * PUTs the response to the request's ResponseURL (`https:`; `http:` for a local test server), with the
 * empty content-type the pre-signed URL was signed for.
 *
 * @throws Error naming the URL's host and path (never its signature) when the PUT fails or S3 answers
 *   anything but 2xx.
 * @example
 * await sendCloudFormationResponse(request, { status: 'FAILED', reason: 'Account 123456789012: ...', physicalResourceId, data: {} });
 */
export async function sendCloudFormationResponse(
  request: CloudFormationRequestIds,
  response: CloudFormationResponse,
  timeoutMs = RESPONSE_TIMEOUT_MS,
): Promise<void> {
  const url = new URL(request.responseUrl);
  const body = cloudFormationResponseBody(request, response);
  const transport = url.protocol === 'http:' ? http : https;
  const where = describeResponseUrl(request.responseUrl);
  const status = await new Promise<number>((resolve, reject) => {
    const outgoing = transport.request(
      url,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (incoming) => {
        incoming.resume();
        incoming.on('end', () => resolve(incoming.statusCode ?? 0));
        incoming.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  }).catch((error: unknown) => {
    throw new Error(`PUT to ${where} failed: ${(error as Error).message || String(error)}`);
  });
  if (status < 200 || status > 299) throw new Error(`PUT to ${where} answered HTTP ${status}`);
}

/**
 * The URL without its query: the query of a pre-signed URL is a credential, so logs and errors never
 * hold it.
 *
 * @example
 * describeResponseUrl('https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn...?X-Amz-Signature=abc');
 * // 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn...'
 */
export function describeResponseUrl(responseUrl: string): string {
  try {
    const url = new URL(responseUrl);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return 'an unparseable ResponseURL';
  }
}

/** Newlines would break the stack event's one line; cut with an ellipsis so a reader sees it was cut. */
function oneLine(text: string, maxLength: number): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (flat.length <= maxLength) return flat;
  return maxLength <= 1 ? flat.slice(0, maxLength) : `${flat.slice(0, maxLength - 1)}…`;
}
