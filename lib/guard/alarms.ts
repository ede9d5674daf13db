/**
 * The guard's alarms: it failed, events or sweep batches wait in its dead-letter queue, a sweep is stuck, or
 * something keeps opening buckets. All go to the alarm topic, never the notice topic.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SWEEP_STUCK_AFTER } from './sweep-queue';

/** The CloudWatch namespace and metric of remediations, counted from the handler's logs. */
export const REMEDIATION_METRIC = { namespace: 'RegistryGuard', metricName: 'BucketsRemediated' } as const;

/** What the alarms watch and where they go. */
export interface GuardAlarmsProps {
  readonly guardFunction: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly deadLetterQueue: sqs.IQueue;
  readonly sweepQueue: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  /** Remediations within one hour that make a storm. */
  readonly remediationThreshold: number;
}

/**
 * Creates the alarms `HandlerErrors`, `DeadLettersWaiting`, `SweepStuck` and `RemediationStorm` (the last
 * from the `RemediationsMetric` filter on the handler's log lines), each with the alarm topic as its action.
 *
 * @example
 * const alarms = renderAlarms(this, {
 *   guardFunction, logGroup, deadLetterQueue, sweepQueue, alarmTopic, remediationThreshold: 5,
 * });
 */
export function renderAlarms(guard: Construct, props: GuardAlarmsProps): cloudwatch.Alarm[] {
  const threshold = props.remediationThreshold;
  const remediations = new logs.MetricFilter(guard, 'RemediationsMetric', {
    logGroup: props.logGroup,
    filterPattern: logs.FilterPattern.booleanValue('$.remediated', true),
    metricNamespace: REMEDIATION_METRIC.namespace,
    metricName: REMEDIATION_METRIC.metricName,
    metricValue: '1',
    defaultValue: 0,
  });
  const alarms = [
    new cloudwatch.Alarm(guard, 'HandlerErrors', {
      alarmDescription: 'registry-guard: the drift guard failed. Buckets may stay public until it is fixed.',
      metric: props.guardFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(guard, 'DeadLettersWaiting', {
      alarmDescription:
        'registry-guard: events the guard could not handle, or sweep batches that failed three times, are waiting in its dead-letter queue. Buckets in them were not judged: see the runbook.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(guard, 'SweepStuck', {
      alarmDescription: `registry-guard: a sweep batch has waited over ${SWEEP_STUCK_AFTER.toHumanString()} in the sweep queue. Nothing is consuming it: the sweep is stuck, and its buckets are not judged.`,
      metric: props.sweepQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: SWEEP_STUCK_AFTER.toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // SQS stops publishing the metrics of a queue that stays empty: an idle sweep queue is not stuck.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(guard, 'RemediationStorm', {
      alarmDescription: `registry-guard: ${threshold} or more buckets remediated within an hour. Something keeps opening buckets.`,
      metric: remediations.metric({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  ];
  // The alarm topic, not the notice topic: when notices stop (a broken handler, a revoked key), the
  // alarms that say so must still reach a human.
  const notify = new cloudwatchActions.SnsAction(props.alarmTopic);
  for (const alarm of alarms) alarm.addAlarmAction(notify);
  return alarms;
}
