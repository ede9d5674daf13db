/**
 * CloudFormation asks, at deploy time, for the account's Block Public Access to be turned on. The request is
 * answered whatever happens: a throw becomes FAILED with the error as the reason, instead of a stack that
 * waits an hour.
 */
import { guardAccount } from '../act/guard-account';
import {
  CloudFormationRequestIds,
  CloudFormationResponse,
  describeResponseUrl,
  sendCloudFormationResponse,
} from '../answer/cloudformation-response';
import {
  answerAccountBlockPublicAccess,
  answerDeletion,
  answerFailure,
} from '../answer/guard-account-deployment';
import { describeError } from '../aws-errors';
import { DeliveryError } from '../errors';
import { AccountBlockPublicAccessRequestEvent } from '../events';
import { RunReport } from '../report/run-report';
import { RunContext } from '../run-context';

/**
 * @example
 * await onAccountBlockPublicAccessRequest(run, request, report);
 */
export async function onAccountBlockPublicAccessRequest(
  run: RunContext,
  request: AccountBlockPublicAccessRequestEvent,
  report: RunReport,
): Promise<void> {
  let response: CloudFormationResponse;
  try {
    if (request.requestType === 'Delete') {
      // Delete reads and changes nothing: removing the guard never loosens access.
      response = answerDeletion(request);
    } else {
      const outcome = await guardAccount(run, request.accountId);
      // On-call hears before CloudFormation does: should the answer fail, the retry finds the setting
      // already on and would never notify.
      await report.accountBlockPublicAccess(outcome);
      response = answerAccountBlockPublicAccess(outcome, run.settings.mode);
    }
  } catch (error) {
    run.logger.error(`Serving the CloudFormation request failed: ${describeError(error)}`, {
      stackId: request.stackId,
      requestId: request.requestId,
      requestType: request.requestType,
    });
    response = answerFailure(request, error);
  }
  await answerCloudFormation(run, request, response);
  report.answered(response);
}

/**
 * Sends the answer to a CloudFormation request, once. When it cannot be sent, the request is still
 * unanswered: log it and throw {@link DeliveryError}, so Lambda retries and the DLQ and the errors alarm see it.
 *
 * @example
 * await answerCloudFormation(run, request, answerRejectedRequest(error));
 */
export async function answerCloudFormation(
  run: RunContext,
  request: CloudFormationRequestIds,
  response: CloudFormationResponse,
): Promise<void> {
  const attributes = {
    status: response.status,
    reason: response.reason,
    physicalResourceId: response.physicalResourceId,
    data: response.data,
    stackId: request.stackId,
    requestId: request.requestId,
    logicalResourceId: request.logicalResourceId,
    responseUrl: describeResponseUrl(request.responseUrl),
    trigger: run.trigger,
  };
  try {
    await sendCloudFormationResponse(request, response);
  } catch (error) {
    const failure = `Answering CloudFormation ${response.status} failed: ${describeError(error)}`;
    run.logger.error(failure, attributes);
    throw new DeliveryError([failure]);
  }
  const log = response.status === 'FAILED' ? run.logger.error : run.logger.info;
  log.call(run.logger, `Answered CloudFormation ${response.status}`, attributes);
}
