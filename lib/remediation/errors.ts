/**
 * Errors the guard raises on purpose. Each one fails the invocation, so Lambda's retries and its
 * dead-letter queue keep the event for a person to inspect.
 */

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
  override readonly name = 'InvalidEventError';

  /**
   * @param problem what is wrong with the event, starting with the field concerned
   */
  constructor(readonly problem: string) {
    super(
      `Event rejected: ${problem}. registry-guard accepts AWS Config custom-rule events and EventBridge ` +
        `"AWS API Call via CloudTrail" events for S3; nothing was read or changed. Inspect the event in ` +
        `the dead-letter queue and fix the rule or target that sent it.`,
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
