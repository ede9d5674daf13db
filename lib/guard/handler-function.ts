/**
 * The guard's Lambda function: the prebuilt bundle of lib/remediation (see handler-bundle.ts), its log group,
 * its dead-letter queue and the environment that tells it its mode, evidence bucket and topic.
 */
import { Duration, RemovalPolicy, Tokenization, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MAX_EXEMPTION_DAYS, GUARD_ENVIRONMENT, GuardMode } from '../guard-facts';
import type { PublicAccessGuardProps } from '../public-access-guard';
import { handlerCodeDirectory } from './handler-bundle';
import { DEFAULT_INCIDENT_WINDOW, DEFAULT_RESERVED_CONCURRENCY } from './props';

/** What the function is built from besides the guard's props. */
export interface HandlerFunctionProps {
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  readonly deadLetterQueue: sqs.IQueue;
  /** What the handler reads from its environment: see {@link renderEnvironment}. */
  readonly environment: Record<string, string>;
  readonly reservedConcurrentExecutions?: number;
  readonly tracing?: boolean;
}

/** What the environment tells the handler besides the guard's props. */
export interface HandlerEnvironmentProps {
  readonly mode: GuardMode;
  readonly evidenceBucketName: string;
  readonly notificationTopicArn: string;
}

/**
 * Creates the queue (construct id `DeadLetters`) where failed asynchronous invocations land: encrypted,
 * TLS-only, and kept 14 days, the longest SQS allows, so on-call can still replay them after the alarm.
 *
 * @example
 * const deadLetterQueue = renderDeadLetterQueue(this);
 */
export function renderDeadLetterQueue(guard: Construct): sqs.Queue {
  const queue = new sqs.Queue(guard, 'DeadLetters', {
    encryption: sqs.QueueEncryption.KMS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // cdk-nag's AwsSolutions-SQS3 does not ask a queue used as a dead-letter queue for one of its own.
  return queue;
}

/**
 * Creates the function's log group (construct id `Logs`), kept a year and retained when the stack is
 * deleted: it is the record of what the guard did, and the storm alarm counts remediations from it.
 *
 * @example
 * const logGroup = renderLogGroup(this);
 */
export function renderLogGroup(guard: Construct): logs.LogGroup {
  return new logs.LogGroup(guard, 'Logs', {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * Creates the function (construct id `Handler`) from the handler's self-contained bundle (the AWS SDK it is
 * tested against included; see handler-bundle.ts), so a consumer's synth needs neither esbuild nor Docker,
 * and acknowledges the runtime finding its pinned Node.js version raises.
 *
 * @example
 * const guardFunction = renderHandlerFunction(this, { role, logGroup, deadLetterQueue, environment });
 */
export function renderHandlerFunction(guard: Construct, props: HandlerFunctionProps): lambda.Function {
  const guardFunction = new lambda.Function(guard, 'Handler', {
    description: 'registry-guard: closes S3 buckets that drifted to public access',
    code: lambda.Code.fromAsset(handlerCodeDirectory()),
    // The bundle is index.js (HANDLER_BUNDLE_FILE) exporting `handler`.
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    // A scheduled sweep reads every bucket of the account.
    timeout: Duration.minutes(5),
    reservedConcurrentExecutions: props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY,
    deadLetterQueue: props.deadLetterQueue,
    tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    role: props.role,
    logGroup: props.logGroup,
    environment: props.environment,
  });
  Validations.of(guardFunction).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'The handler is built and tested for Node.js 22 (esbuild target node22); move both together.',
  });
  return guardFunction;
}

/**
 * What the handler reads from its environment, under the names defined once in guard-facts, with the
 * props' defaults filled in so the handler never guesses.
 *
 * @example
 * const environment = renderEnvironment(props, { mode, evidenceBucketName, notificationTopicArn });
 */
export function renderEnvironment(
  props: PublicAccessGuardProps,
  resolved: HandlerEnvironmentProps,
): Record<string, string> {
  return {
    [GUARD_ENVIRONMENT.mode]: resolved.mode,
    [GUARD_ENVIRONMENT.evidenceBucket]: resolved.evidenceBucketName,
    [GUARD_ENVIRONMENT.notifyTopicArn]: resolved.notificationTopicArn,
    [GUARD_ENVIRONMENT.maxExemptionDays]: Tokenization.stringifyNumber(
      props.maxExemptionDays ?? DEFAULT_MAX_EXEMPTION_DAYS,
    ),
    [GUARD_ENVIRONMENT.releasedRegistries]: (props.releasedRegistryBuckets ?? []).join(','),
    [GUARD_ENVIRONMENT.incidentWindowSeconds]: String(
      (props.incidentWindow ?? DEFAULT_INCIDENT_WINDOW).toSeconds(),
    ),
    POWERTOOLS_SERVICE_NAME: 'registry-guard',
  };
}
