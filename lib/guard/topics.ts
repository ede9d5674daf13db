/**
 * The topics a guard creates when none is supplied: one for on-call notices and one for alarms, each under
 * a customer-managed key of its own, and the topic policies that say who may publish to them.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { tieKeyToServices } from '../key-policy';

const CLOUDWATCH_SERVICE = 'cloudwatch.amazonaws.com';

/** A topic the guard created, with the key that encrypts it. */
export interface GuardTopic {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
}

/**
 * Creates the notice topic and its key. Its construct ids (`TopicKey`, `Topic`) are the ones earlier versions
 * used, so updates keep the topic and its subscriptions.
 *
 * @example
 * const noticeTopic = props.notificationTopic === undefined ? renderNoticeTopic(this) : undefined;
 */
export function renderNoticeTopic(guard: Construct): GuardTopic {
  const key = renderTopicKey(guard, 'TopicKey', 'Encrypts the registry-guard on-call topic');
  const topic = new sns.Topic(guard, 'Topic', {
    displayName: 'registry-guard on-call',
    masterKey: key,
    enforceSSL: true,
  });
  return { topic, key };
}

/**
 * Creates the alarm topic under a key of its own: revoking, disabling or deleting the notice topic's key
 * must not silence the alarms that say the guard is broken.
 *
 * @example
 * const alarmTopic = props.alarmTopic === undefined ? renderAlarmTopic(this) : undefined;
 */
export function renderAlarmTopic(guard: Construct): GuardTopic {
  const key = renderTopicKey(guard, 'AlarmTopicKey', 'Encrypts the registry-guard alarm topic');
  const topic = new sns.Topic(guard, 'AlarmTopic', {
    displayName: 'registry-guard alarms',
    masterKey: key,
    enforceSSL: true,
  });
  return { topic, key };
}

/** A rotating topic key CloudWatch of this account may use: alarms publish with CloudWatch's rights. */
function renderTopicKey(guard: Construct, id: string, description: string): kms.Key {
  const key = new kms.Key(guard, id, {
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(CLOUDWATCH_SERVICE)],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(guard).account } },
    }),
  );
  // The guard's role publishes through SNS; nobody needs the key outside it.
  tieKeyToServices(key, ['sns']);
  return key;
}

/**
 * Lets only the guard's role (when given) and CloudWatch of this account publish to a topic the guard
 * created: a forged notice or alarm would train on-call to ignore real ones. The Deny's negated operators
 * are true when their key is missing, so it also covers every other service principal (no principal ARN)
 * and every IAM principal (no service name); Allows alone would not stop a principal whose own IAM policy
 * grants `sns:Publish`.
 *
 * @example
 * restrictPublishers(noticeTopic.topic, role); // the guard's notices and CloudWatch's alarms
 * restrictPublishers(alarmTopic.topic);        // CloudWatch's alarms only
 */
export function restrictPublishers(topic: sns.Topic, guardRole?: iam.IRole): void {
  const stack = Stack.of(topic);
  if (guardRole !== undefined) {
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'GuardPublishes',
        principals: [new iam.ArnPrincipal(guardRole.roleArn)],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
      }),
    );
  }
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AlarmsPublish',
      principals: [new iam.ServicePrincipal(CLOUDWATCH_SERVICE)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyOtherPublishers',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        ...(guardRole !== undefined ? { ArnNotEquals: { 'aws:PrincipalArn': guardRole.roleArn } } : {}),
        StringNotEqualsIfExists: { 'aws:PrincipalServiceName': CLOUDWATCH_SERVICE },
      },
    }),
  );
}
