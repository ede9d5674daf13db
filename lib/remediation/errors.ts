/**
 * Errors the guard raises on purpose. Each one fails the invocation, so Lambda's retries and its
 * dead-letter queue keep the event for a person to inspect; the one exception is a CloudFormation request
 * that can still be answered, which the handler answers instead.
 */
import { ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE } from '../classification';
import type { CloudFormationRequestIds } from './answer/cloudformation-response';

/**
 * The event is not one the guard understands: it was rejected before any AWS call.
 *
 * @example
 * try {
 *   parseGuardEvent({ messageType: 'Unknown' });
 * } catch (error) {
 *   if (error instanceof InvalidEventError) console.error(error.message);
 * }
 */
export class InvalidEventError extends Error {
  override readonly name: string = 'InvalidEventError';

  /**
   * @param problem what is wrong with the event, starting with the field concerned
   * @param nextStep what a person should do about it
   */
  constructor(
    readonly problem: string,
    nextStep = 'Inspect the event in the dead-letter queue and fix the rule or target that sent it.',
  ) {
    super(
      `Event rejected: ${problem}. registry-guard accepts AWS Config custom-rule events, EventBridge ` +
        `"AWS API Call via CloudTrail" events for S3 and CloudFormation requests for ` +
        `${ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}; nothing was read or changed. ${nextStep}`,
    );
  }
}

/** What a rejected CloudFormation request still tells: where to answer it, and what it asked. */
export interface RejectedCustomResourceRequest extends CloudFormationRequestIds {
  /** The RequestType as sent, when it was a string. */
  readonly requestType?: string;
  /** The ResourceType as sent, when it was a string. */
  readonly resourceType?: string;
  readonly physicalResourceId?: string;
  /** The account in the StackId, when the StackId is a stack ARN. */
  readonly accountId?: string;
}

/**
 * A CloudFormation custom resource request the guard does not serve (another ResourceType, an unknown
 * RequestType, unexpected properties, a malformed StackId) but can still answer, because it carries a
 * ResponseURL and the ids a response echoes. The handler answers it instead of throwing: an unanswered
 * request holds the stack for an hour.
 *
 * @example
 * try {
 *   parseGuardEvent(request);
 * } catch (error) {
 *   if (error instanceof InvalidCustomResourceRequestError) console.log(error.request.stackId, error.problem);
 * }
 */
export class InvalidCustomResourceRequestError extends InvalidEventError {
  override readonly name = 'InvalidCustomResourceRequestError';

  /**
   * @param problem what is wrong with the request, starting with the field concerned
   * @param request where to answer it
   */
  constructor(
    problem: string,
    readonly request: RejectedCustomResourceRequest,
  ) {
    super(
      problem,
      'The handler answers the request with this reason instead of failing; fix the stack that sent it.',
    );
  }
}

/**
 * The guard did its work but could not deliver all of it: an evaluation batch or an on-call notice failed
 * after the SDK's retries. Raised at the end of the invocation, so Lambda retries it; the work itself is
 * idempotent, so a retry repeats nothing that already took effect.
 *
 * @example
 * // In a test: expect(run()).rejects.toBeInstanceOf(DeliveryError)
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';

  /**
   * @param failures one line per failed delivery, each starting with what failed
   */
  constructor(readonly failures: readonly string[]) {
    super(`Delivery failed: ${failures.join('; ')}`);
  }
}

/**
 * The guard acted on a bucket and the public can still reach it (Block Public Access denied, say by a
 * service control policy, and the rewrite failed or had no backup). Raised at the end of the invocation,
 * after evaluations and notices went out, so Lambda retries it and the dead-letter queue and the errors
 * alarm see it: nothing ends silently public.
 *
 * @example
 * // In a test: expect(run()).rejects.toBeInstanceOf(StillPublicError)
 */
export class StillPublicError extends Error {
  override readonly name = 'StillPublicError';

  /**
   * @param buckets the buckets still public
   * @param failures every other failure of the invocation, one line each
   */
  constructor(
    readonly buckets: readonly string[],
    readonly failures: readonly string[],
  ) {
    super(`STILL PUBLIC after remediation: ${buckets.join(', ')}; ${failures.join('; ')}`);
  }
}
