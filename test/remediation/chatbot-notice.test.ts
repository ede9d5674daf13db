/**
 * Chat-ready notices: one SNS publish carries the plain text (`default`, `email`) and an AWS Chatbot custom
 * notification (`https`, the protocol Chatbot subscribes with). The payload is checked against the custom
 * notification event schema of the Chatbot administrator guide (not against the builder), outside text is
 * checked to stay inert in chat markdown, the message to stay under SNS's 256 KB, and, on moto's SNS, each
 * kind of subscriber to get its own form.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  PublishCommand,
  PublishCommandInput,
  SetSubscriptionAttributesCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { defaultDeps } from '../../lib/remediation/clients';
import { createHandler } from '../../lib/remediation/handler';
import { CHAT_LIMITS } from '../../lib/remediation/report/chatbot';
import { Notice } from '../../lib/remediation/report/notice';
import { MAX_SNS_MESSAGE_BYTES, protocolMessages } from '../../lib/remediation/report/sns-message';
import { composeUnverifiableDigest } from '../../lib/remediation/report/unverifiable-digest';
import { unverifiableOutcome } from '../../lib/remediation/report/outcome';
import { EVIDENCE_PREFIXES, GuardMode } from '../../lib/guard-facts';
import {
  ACCOUNT,
  auditorStatement,
  cloudTrailAccountEvent,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  exemptionTags,
  FakeAccount,
  MINUTE,
  at,
  OWNER_GRANT,
  policyOf,
  PUBLIC_READ_GRANT,
  publicStatement,
  RecordingLogger,
  REGION,
  REGISTRY_TAG,
  s3Error,
} from './support';
import {
  motoAvailable,
  MotoServer,
  pointAwsAt,
  startMotoServer,
  useLoopbackHost,
} from '../support/moto-server';

const ROLL = 'electoral-roll';

/**
 * The custom notification event schema, as the Chatbot administrator guide documents it ("Custom
 * notifications", Event schema and Parameter details): every problem found, empty for a valid payload.
 */
function customNotificationProblems(payload: unknown): string[] {
  const problems: string[] = [];
  const isObject = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value);
  const isStrings = (value: unknown): boolean =>
    Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (!isObject(payload)) return ['the payload is not a JSON object'];
  if (payload.version !== '1.0') problems.push('version must be "1.0"');
  if (payload.source !== 'custom') problems.push('source must be "custom"');
  if (payload.id !== undefined && typeof payload.id !== 'string') problems.push('id must be a string');
  const content = payload.content;
  if (!isObject(content)) return [...problems, 'content must be an object'];
  if (content.textType !== undefined && content.textType !== 'client-markdown') {
    problems.push('textType must be client-markdown, the only one supported');
  }
  if (typeof content.description !== 'string' || content.description === '') {
    problems.push('content.description must be a non-empty string');
  }
  if (content.title !== undefined && typeof content.title !== 'string')
    problems.push('title must be a string');
  for (const list of ['nextSteps', 'keywords']) {
    if (content[list] !== undefined && !isStrings(content[list])) problems.push(`${list} must be strings`);
  }
  const metadata = payload.metadata;
  if (metadata !== undefined) {
    if (!isObject(metadata)) return [...problems, 'metadata must be an object'];
    for (const field of ['threadId', 'summary', 'eventType']) {
      if (metadata[field] !== undefined && typeof metadata[field] !== 'string') {
        problems.push(`metadata.${field} must be a string`);
      }
    }
    if (metadata.relatedResources !== undefined && !isStrings(metadata.relatedResources)) {
      problems.push('relatedResources must be strings');
    }
    const context = metadata.additionalContext;
    if (
      context !== undefined &&
      (!isObject(context) || !Object.values(context).every((v) => typeof v === 'string'))
    ) {
      problems.push('additionalContext must map strings to strings');
    }
  }
  return problems;
}

interface Payload {
  content: { title: string; description: string; nextSteps: string[]; keywords: string[]; textType: string };
  metadata: { threadId: string; summary: string; eventType: string; relatedResources: string[] };
}

/** The Publish inputs the guard sent, with their protocol texts parsed. */
function published(account: FakeAccount): {
  input: PublishCommandInput;
  byProtocol: Record<string, string>;
  chat: Payload;
}[] {
  return account.snsMock.commandCalls(PublishCommand).map((call) => {
    const input = call.args[0].input;
    const byProtocol = JSON.parse(input.Message ?? '') as Record<string, string>;
    return { input, byProtocol, chat: JSON.parse(byProtocol.https) as Payload };
  });
}

function openRegistry(account: FakeAccount): void {
  account.addBucket(ROLL, {
    tags: [REGISTRY_TAG],
    policy: policyOf(publicStatement(ROLL), auditorStatement(ROLL)),
    grants: [OWNER_GRANT, PUBLIC_READ_GRANT],
  });
}

describe('a bucket notice, as SNS receives it', () => {
  test('one publish: the plain text for default and email, the custom notification for HTTPS', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    await account.handler()(configChangeEvent(ROLL));

    const [{ input, byProtocol, chat }] = published(account);
    expect(input.MessageStructure).toBe('json');
    expect(Object.keys(byProtocol).sort()).toEqual(['default', 'email', 'https']);
    expect(byProtocol.email).toBe(byProtocol.default);
    // Email readers keep the text they had: the lines of the notice, no JSON.
    expect(byProtocol.default).toMatch(/^Bucket: electoral-roll$/m);
    expect(() => JSON.parse(byProtocol.default)).toThrow();
    expect(input.Subject).toBe('registry-guard: closed non-compliant registry bucket electoral-roll');
    expect(input.MessageAttributes?.bucket).toEqual({ DataType: 'String', StringValue: ROLL });

    expect(customNotificationProblems(JSON.parse(byProtocol.https))).toEqual([]);
    expect(chat.content.textType).toBe('client-markdown');
    expect(chat.content.title).toBe(
      ':lock: registry-guard: closed non-compliant registry bucket electoral-roll',
    );
    expect(chat.content.description).toContain('*Bucket:* `electoral-roll`');
    expect(chat.content.description).toContain('*What was done:*');
    expect(chat.metadata).toMatchObject({
      threadId: `registry-guard-${ROLL}`,
      summary: input.Subject,
      eventType: 'BucketClosed',
    });
    expect(chat.metadata.relatedResources[0]).toBe(`arn:aws:s3:::${ROLL}`);
    expect(chat.content.keywords).toEqual(['registry-guard', 'registry', 'closed', 'remediate']);
  });

  test('the next steps give the restore command, pinned to the evidence version and checksum', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    await account.handler()(configChangeEvent(ROLL));
    const [{ chat }] = published(account);
    const [evidenceKey] = account.evidence().keys();
    const restore = chat.content.nextSteps.find((step) => step.includes('npx registry-guard restore'));
    expect(restore).toMatch(
      new RegExp(
        `\`npx registry-guard restore s3://${EVIDENCE_BUCKET}/${evidenceKey.replace(/[.]/g, '\\.')} --version-id v\\d+ --sha256 [0-9a-f]{64}\`$`,
      ),
    );
    expect(chat.content.nextSteps.at(-1)).toBe('Runbook: docs/runbook.md');
  });

  test('a bucket the guard could not close says so first, and still gives the way back', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    for (const operation of ['PutPublicAccessBlock', 'PutBucketPolicy', 'PutBucketAcl']) {
      account.failAlways(operation, ROLL, s3Error('AccessDenied', 'Access Denied', 403));
    }
    await account
      .handler()(configChangeEvent(ROLL))
      .catch(() => undefined);
    const [{ chat }] = published(account);
    expect(chat.content.title).toMatch(/^:rotating_light: STILL PUBLIC registry-guard: could not close/);
    expect(chat.content.nextSteps[0]).toBe(
      '*STILL PUBLIC*: close the bucket by hand now (runbook, "Still public").',
    );
    expect(chat.metadata.eventType).toBe('BucketStillPublic');
    expect(chat.content.nextSteps.some((step) => step.includes('npx registry-guard restore s3://'))).toBe(
      true,
    );
  });

  test('every field stays within its bound, however many ways in the bucket had', async () => {
    const account = new FakeAccount();
    const statements = Array.from({ length: 40 }, (_, index) =>
      publicStatement(ROLL, `PublicRead${index}${'x'.repeat(80)}`),
    );
    account.addBucket(ROLL, { tags: [REGISTRY_TAG], policy: policyOf(...statements) });
    await account.handler()(configChangeEvent(ROLL));
    const [{ chat }] = published(account);
    expect(chat.content.title.length).toBeLessThanOrEqual(CHAT_LIMITS.title);
    expect(chat.content.description.length).toBeLessThanOrEqual(CHAT_LIMITS.description);
    expect(chat.content.description).toMatch(/• …and 32 more \(in the email notice\)/);
    expect(chat.content.nextSteps.length).toBeLessThanOrEqual(CHAT_LIMITS.nextSteps);
    for (const step of chat.content.nextSteps) expect(step.length).toBeLessThanOrEqual(CHAT_LIMITS.nextStep);
  });
});

describe('outside text in chat', () => {
  test('cannot mention the channel, forge a link or a line: escaped and kept on one line', async () => {
    const account = new FakeAccount();
    const reason = 'Open data <!channel> <https://evil.example|approve here> & more\nNext steps: delete it';
    account.addBucket('open-data', {
      policy: policyOf(publicStatement('open-data')),
      tags: exemptionTags(reason, '2027-01-31'),
    });
    await account.handler()(cloudTrailBucketEvent('PutBucketPolicy', 'open-data'));
    const [{ chat, byProtocol }] = published(account);
    const everything = JSON.stringify(chat);
    expect(everything).not.toContain('<!channel>');
    expect(everything).not.toContain('<https://evil');
    const line = chat.content.description.split('\n').find((text) => text.includes('Exemption in use'));
    expect(line).toBe(
      '*Exemption in use* until 2027-01-31: "Open data &lt;!channel&gt; &lt;https://evil.example|approve here&gt; &amp; more Next steps: delete it"',
    );
    // The plain text keeps the reason readable as it was written, on one line too.
    expect(byProtocol.default).toContain(
      '"Open data <!channel> <https://evil.example|approve here> & more Next steps: delete it"',
    );
  });
});

describe('notices without a chat form of their own', () => {
  test('an account notice goes out as a custom notification made from its subject and text', async () => {
    const account = new FakeAccount();
    await account.handler()(cloudTrailAccountEvent('DeleteAccountPublicAccessBlock'));
    const [{ input, byProtocol, chat }] = published(account);
    expect(customNotificationProblems(JSON.parse(byProtocol.https))).toEqual([]);
    expect(chat.content.title).toBe(`:bell: ${input.Subject}`);
    expect(chat.content.description).toContain(`Account: ${ACCOUNT}`);
    expect(chat.metadata.threadId).toBe(`registry-guard-account-${ACCOUNT}`);
  });

  test('a pending notice delivered late keeps its chat form, which says it is late; an old record without one still goes out', async () => {
    const account = new FakeAccount();
    openRegistry(account);
    account.snsMock.on(PublishCommand).rejectsOnce(new Error('SNS is down')).resolves({ MessageId: 'late' });
    await account
      .handler()(configChangeEvent(ROLL))
      .catch(() => undefined);
    const [pendingKey] = [...account.records(EVIDENCE_PREFIXES.pendingNotices).keys()];
    const record = account.records(EVIDENCE_PREFIXES.pendingNotices).get(pendingKey) as {
      notice: { chat?: unknown };
    };
    expect(record.notice.chat).toBeDefined();
    // A record from before chat forms, beside it.
    account.objects.set(
      `${EVIDENCE_BUCKET}/${EVIDENCE_PREFIXES.pendingNotices}2026-11-25T02:00:00.000Z-old00001.json`,
      JSON.stringify({
        schema: 'registry-guard/pending-notice/v1',
        firstAttemptAt: '2026-11-25T02:00:00.000Z',
        trigger: 'CloudTrail PutBucketAcl',
        notice: {
          subject: 'registry-guard: closed bucket old',
          message: 'Bucket: old',
          attributes: { bucket: 'old' },
        },
      }),
    );

    await account.handler({}, { now: () => at(2 * MINUTE) })(cloudTrailBucketEvent('PutBucketTagging', ROLL));
    const late = published(account).slice(1);
    expect(late).toHaveLength(2);
    for (const { byProtocol } of late)
      expect(customNotificationProblems(JSON.parse(byProtocol.https))).toEqual([]);
    const roll = late.find(({ chat }) => chat.metadata.threadId === `registry-guard-${ROLL}`);
    expect(roll?.chat.content.description).toMatch(/^_Delivered late: the first attempt, at /);
    expect(roll?.chat.content.nextSteps.some((step) => step.includes('npx registry-guard restore'))).toBe(
      true,
    );
    expect(roll?.byProtocol.default).toMatch(/\n\nDelivered late: the first attempt, at /);
    const old = late.find(({ chat }) => chat.metadata.threadId === 'registry-guard-old');
    expect(old?.chat.content.description).toContain('Bucket: old');
  });
});

describe('SNS’s 256 KB limit', () => {
  const context = {
    accountId: ACCOUNT,
    region: REGION,
    mode: GuardMode.REMEDIATE,
    trigger: 'AWS Config sweep',
  };

  function totalBytes(notice: Notice, message: string): number {
    const attributes = Object.entries(notice.attributes).reduce(
      (sum, [name, value]) =>
        sum + Buffer.byteLength(name) + Buffer.byteLength('String') + Buffer.byteLength(value),
      0,
    );
    return Buffer.byteLength(message) + Buffer.byteLength(notice.subject) + attributes;
  }

  test('a digest at the size the text alone may reach fits with its chat form: email falls back to default', () => {
    const outcomes = Array.from({ length: 4000 }, (_, index) =>
      unverifiableOutcome(
        `bucket-${index.toString().padStart(5, '0')}`,
        `GetBucketPolicy failed with SlowDown: ${'x'.repeat(60)}`,
      ),
    );
    const digest = composeUnverifiableDigest(outcomes, context);
    expect(Buffer.byteLength(digest.message)).toBeGreaterThan(200 * 1024);
    const message = protocolMessages(digest);
    expect(totalBytes(digest, message)).toBeLessThanOrEqual(MAX_SNS_MESSAGE_BYTES);
    const byProtocol = JSON.parse(message) as Record<string, string>;
    expect(Object.keys(byProtocol).sort()).toEqual(['default', 'https']);
    expect(byProtocol.default).toBe(digest.message);
    expect(customNotificationProblems(JSON.parse(byProtocol.https))).toEqual([]);
  });

  test('a text too long even alone loses lines from its end, and says how many', () => {
    const notice: Notice = {
      subject: 'registry-guard: a long notice',
      message: Array.from({ length: 5000 }, (_, index) => `line ${index} ${'é'.repeat(40)}`).join('\n'),
      attributes: { bucket: 'roll', mode: 'remediate' },
    };
    const message = protocolMessages(notice);
    expect(totalBytes(notice, message)).toBeLessThanOrEqual(MAX_SNS_MESSAGE_BYTES);
    const byProtocol = JSON.parse(message) as Record<string, string>;
    const lines = byProtocol.default.split('\n');
    expect(lines[0]).toBe(`line 0 ${'é'.repeat(40)}`);
    expect(lines.at(-1)).toMatch(/^\[\d+ more lines left out to fit SNS's 256 KB message limit\]$/);
    const leftOut = Number(/\[(\d+) more/.exec(lines.at(-1) ?? '')?.[1]);
    expect(lines.length - 1 + leftOut).toBe(5000);
    expect(customNotificationProblems(JSON.parse(byProtocol.https))).toEqual([]);
  });
});

const describeWithMoto = motoAvailable() ? describe : describe.skip;

describeWithMoto('on moto’s SNS: each subscriber gets its own form', () => {
  let moto: MotoServer;
  let restoreEnvironment: () => void;
  let chatEndpoint: http.Server;
  const chatDeliveries: string[] = [];

  beforeAll(async () => {
    moto = await startMotoServer();
    restoreEnvironment = pointAwsAt(moto.port);
    // Stands in for Chatbot's HTTPS endpoint: moto posts HTTPS deliveries to the endpoint as given.
    chatEndpoint = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        chatDeliveries.push(body);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => chatEndpoint.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => chatEndpoint?.close(resolve));
    restoreEnvironment?.();
    await moto?.stop();
  });

  test('an SQS subscriber (raw, as email gets it) receives the plain text; an HTTPS subscriber, the custom notification', async () => {
    const s3 = new S3Client({});
    const sqs = new SQSClient({});
    const deps = defaultDeps();
    useLoopbackHost(deps.s3Control);
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: 'open-data' }));
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: 'open-data', Policy: policyOf(publicStatement('open-data')) }),
    );
    const topicArn = (await deps.sns.send(new CreateTopicCommand({ Name: 'on-call' }))).TopicArn ?? '';
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'inbox' }))).QueueUrl ?? '';
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const queueSubscription = await deps.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }),
    );
    await deps.sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: queueSubscription.SubscriptionArn,
        AttributeName: 'RawMessageDelivery',
        AttributeValue: 'true',
      }),
    );
    const { port } = chatEndpoint.address() as AddressInfo;
    await deps.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'https',
        Endpoint: `http://127.0.0.1:${port}/chatbot`,
      }),
    );

    const handler = createHandler({
      ...deps,
      logger: new RecordingLogger(),
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: topicArn },
    });
    await handler(cloudTrailBucketEvent('PutBucketPolicy', 'open-data'));

    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(received.Messages).toHaveLength(1);
    const text = received.Messages?.[0].Body ?? '';
    expect(text).toMatch(/^Bucket: open-data$/m);
    expect(text).toContain('What was done:');

    expect(chatDeliveries).toHaveLength(1);
    const envelope = JSON.parse(chatDeliveries[0]) as { Type: string; Subject: string; Message: string };
    expect(envelope.Type).toBe('Notification');
    expect(envelope.Subject).toBe('registry-guard: closed non-compliant bucket open-data');
    const payload = JSON.parse(envelope.Message) as Payload;
    expect(customNotificationProblems(payload)).toEqual([]);
    expect(payload.content.title).toBe(':lock: registry-guard: closed non-compliant bucket open-data');
    expect(payload.content.nextSteps.some((step) => step.includes('npx registry-guard restore s3://'))).toBe(
      true,
    );
  });
});
