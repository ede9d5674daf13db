/**
 * The guard's Lambda function: the prebuilt bundle of lib/remediation (see handler-bundle.ts), its log group,
 * its dead-letter queue and the environment that tells it its mode, evidence bucket, topic and sweep queue.
 */
import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack, Tokenization, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MAX_EXEMPTION_DAYS, GUARD_ENVIRONMENT, GuardMode } from '../guard-facts';
import { tieKeyToServices } from '../key-policy';
import type { PublicAccessGuardProps } from '../public-access-guard';
import { handlerCodeDirectory } from './handler-bundle';
import { DEFAULT_INCIDENT_WINDOW, DEFAULT_RESERVED_CONCURRENCY } from './props';

/** The function's timeout; the sweep queue's visibility timeout follows from it (see sweep-queue.ts). */
export const HANDLER_TIMEOUT = Duration.minutes(5);

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
  readonly sweepQueueUrl: string;
}

/**
 * Creates the queue (construct id `DeadLetters`) where failed asynchronous invocations, undeliverable
 * fast-path events and sweep batches that kept failing land: encrypted with a key of its own (construct id
 * `DeadLettersKey`, shared with the sweep queue), TLS-only, kept 14 days, the longest SQS allows, so on-call
 * can still replay them after the alarm, and the dead-letter queue of the sweep queue (`sweepQueueArn`)
 * alone, so what waits in it is the guard's failures and nothing else.
 *
 * @example
 * const deadLetterQueue = renderDeadLetterQueue(this, sweepQueueArn(this));
 */
export function renderDeadLetterQueue(guard: Construct, sweepQueueArn: string): sqs.Queue {
  const stack = Stack.of(guard);
  const key = new kms.Key(guard, 'DeadLettersKey', {
    description: 'Encrypts the registry-guard dead-letter and sweep queues',
    enableKeyRotation: true,
    // The queue goes with the stack; a key kept after it would decrypt nothing.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // EventBridge writes the fast path's undeliverable events with its own rights, not a role's, so the key
  // must admit it; an AWS-managed key (alias/aws/sqs) cannot. The rule's ARN cannot be named here: the
  // rule's target names the queue, which names this key.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EventBridgeDeliversDeadLetters',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }),
        },
      },
    }),
  );
  // Lambda sends failed invocations, and the function sweep batches, with the function's role, which
  // reaches the key through SQS.
  tieKeyToServices(key, ['sqs']);
  return new sqs.Queue(guard, 'DeadLetters', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    // Named by ARN: the sweep queue names this queue as its target, so a reference would be a cycle.
    redriveAllowPolicy: {
      redrivePermission: sqs.RedrivePermission.BY_QUEUE,
      sourceQueues: [sqs.Queue.fromQueueArn(guard, 'DeadLettersSource', sweepQueueArn)],
    },
  });
}

/**
 * Creates the function's log group (construct id `Logs`), kept a year and retained when the stack is
 * deleted: it is the record of what the guard did, and the storm alarm counts remediations from it. It is
 * encrypted with a key of its own (construct id `LogsKey`, retained with the logs it decrypts) that
 * CloudWatch Logs may use for this log group only.
 *
 * @example
 * const logGroup = renderLogGroup(this);
 */
export function renderLogGroup(guard: Construct): logs.LogGroup {
  const stack = Stack.of(guard);
  // Named rather than generated: the key's policy must name the log group, and the log group needs the
  // key first. The stack name keeps two stacks' guards (or two stack instances of a StackSet) apart, the
  // guard's path within its stack two guards of one stack.
  const pathInStack = guard.node.scopes
    .slice(guard.node.scopes.indexOf(stack) + 1)
    .map((scope) => scope.node.id.replace(/[^A-Za-z0-9._#-]/g, '-'))
    .join('/');
  // The log group outlives its stack (retained): the stack id's UUID lets a stack of the same name be
  // deployed again, or retried after a rollback, without "already exists".
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  const logGroupName = `/registry-guard/${Aws.STACK_NAME}-${stackUuid}/${pathInStack}`;
  const logGroupArn = stack.formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: logGroupName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const key = new kms.Key(guard, 'LogsKey', {
    description: 'Encrypts the registry-guard log group',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // The statement CloudWatch Logs documents for a customer key, limited by the encryption context to this
  // log group.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'LogsEncryptsGuardLogGroup',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } },
    }),
  );
  tieKeyToServices(key, ['logs']);
  return new logs.LogGroup(guard, 'Logs', {
    logGroupName,
    encryptionKey: key,
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
    timeout: HANDLER_TIMEOUT,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY,
    deadLetterQueue: props.deadLetterQueue,
    tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    role: props.role,
    logGroup: props.logGroup,
    environment: props.environment,
  });
  // With this role Lambda writes failed asynchronous invocations to the dead-letter queue, and the function
  // and Lambda's poller send and receive sweep batches: both queues are under this one key.
  props.deadLetterQueue.encryptionMasterKey?.grant(props.role, 'kms:GenerateDataKey', 'kms:Decrypt');
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
 * const environment = renderEnvironment(props, {
 *   mode, evidenceBucketName, notificationTopicArn, sweepQueueUrl,
 * });
 */
export function renderEnvironment(
  props: PublicAccessGuardProps,
  resolved: HandlerEnvironmentProps,
): Record<string, string> {
  return {
    [GUARD_ENVIRONMENT.mode]: resolved.mode,
    [GUARD_ENVIRONMENT.evidenceBucket]: resolved.evidenceBucketName,
    [GUARD_ENVIRONMENT.notifyTopicArn]: resolved.notificationTopicArn,
    [GUARD_ENVIRONMENT.sweepQueueUrl]: resolved.sweepQueueUrl,
    [GUARD_ENVIRONMENT.maxExemptionDays]: Tokenization.stringifyNumber(
      props.maxExemptionDays ?? DEFAULT_MAX_EXEMPTION_DAYS,
    ),
    [GUARD_ENVIRONMENT.releasedRegistries]: (props.releasedRegistryBuckets ?? []).join(','),
    // Only when set, so a guard that trusts nobody else keeps the environment it had.
    ...(props.trustedOrganizationId === undefined
      ? {}
      : { [GUARD_ENVIRONMENT.trustedOrganizationId]: props.trustedOrganizationId }),
    ...(props.trustedAccountIds === undefined || props.trustedAccountIds.length === 0
      ? {}
      : { [GUARD_ENVIRONMENT.trustedAccountIds]: props.trustedAccountIds.join(',') }),
    [GUARD_ENVIRONMENT.incidentWindowSeconds]: String(
      (props.incidentWindow ?? DEFAULT_INCIDENT_WINDOW).toSeconds(),
    ),
    // Only when on, so a guard without findings keeps the environment it had.
    ...(props.securityHubFindings === true ? { [GUARD_ENVIRONMENT.securityHubFindings]: 'true' } : {}),
    POWERTOOLS_SERVICE_NAME: 'registry-guard',
  };
}
