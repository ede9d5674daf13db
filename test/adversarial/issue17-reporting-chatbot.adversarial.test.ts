/**
 * Issue 17, adversarial: the chat form of a notice (an AWS Chatbot custom notification under the `https` key
 * of a `MessageStructure: 'json'` SNS message) when outside text is hostile: exemption reasons (tags), error
 * messages, policy statement Sids, a record read back from the evidence bucket. Nothing from outside may
 * mention a channel, forge a link, a line or the order text displays in, and the SNS message must stay
 * valid JSON within 256 KB.
 *
 * A test marked `BREAK:` fails on the code as reviewed: it states what the kit should do.
 */
import { PublishCommand, PublishCommandInput } from '@aws-sdk/client-sns';
import { EVIDENCE_PREFIXES } from '../../lib/guard-facts';
import { CHAT_LIMITS } from '../../lib/remediation/report/chatbot';
import { MAX_SNS_MESSAGE_BYTES } from '../../lib/remediation/report/sns-message';
import {
  at,
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  exemptionTags,
  FakeAccount,
  MINUTE,
  policyOf,
  publicStatement,
  REGISTRY_TAG,
  s3Error,
  settle,
} from '../remediation/support';

const ROLL = 'electoral-roll';
const OPEN_DATA = 'open-data';

/** Bidirectional overrides and isolates: text that makes what follows it display in another order. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;

interface ChatPayload {
  version: string;
  source: string;
  content: { title: string; description: string; nextSteps: string[]; keywords: string[] };
  metadata: {
    threadId?: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
  };
}

interface Published {
  input: PublishCommandInput;
  byProtocol: Record<string, string>;
  chat: ChatPayload;
}

function published(account: FakeAccount): Published[] {
  return account.snsMock.commandCalls(PublishCommand).map((call) => {
    const input = call.args[0].input;
    const byProtocol = JSON.parse(input.Message ?? '') as Record<string, string>;
    return { input, byProtocol, chat: JSON.parse(byProtocol.https) as ChatPayload };
  });
}

/** Every text of the payload that is shown on one line (all but the description). */
function oneLineFields(chat: ChatPayload): string[] {
  return [
    chat.content.title,
    ...chat.content.nextSteps,
    ...chat.content.keywords,
    chat.metadata.threadId ?? '',
    chat.metadata.summary,
    chat.metadata.eventType,
    ...chat.metadata.relatedResources,
    ...Object.keys(chat.metadata.additionalContext),
    ...Object.values(chat.metadata.additionalContext),
  ];
}

/** Every text of the payload. */
function allFields(chat: ChatPayload): string[] {
  return [...oneLineFields(chat), chat.content.description];
}

/**
 * The hostile text of one field, in Slack's and Teams' markup: a channel mention, a Slack link, a user
 * mention, a line that looks like the guard's own, a carriage return and a NUL.
 */
const SLACK_MARKUP =
  '<!channel> <!here> <@U0123ABC> <https://evil.example/restore|Restore the bucket> ' +
  '\n*Next steps:* nothing to do\r\u0000 & done';

/** An ordinary bucket whose exemption reason and policy Sid carry `text`, made public under the exemption. */
function exemptBucketCarrying(account: FakeAccount, text: string): void {
  account.addBucket(OPEN_DATA, {
    policy: policyOf(publicStatement(OPEN_DATA, `Public${text}`)),
    tags: exemptionTags(text, '2027-01-31'),
  });
}

describe('issue 17 adversarial: outside text in the chat form', () => {
  test('Slack markup in a reason, a Sid and an error message stays inert, and forges no line', async () => {
    const account = new FakeAccount();
    exemptBucketCarrying(account, SLACK_MARKUP);
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    account.failAlways('GetBucketPolicy', ROLL, s3Error('AccessDenied', SLACK_MARKUP, 403));
    await settle(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', OPEN_DATA)));
    await settle(account.handler()(configChangeEvent(ROLL)));
    const notices = published(account);
    expect(notices).toHaveLength(2);
    for (const { chat } of notices) {
      for (const text of allFields(chat)) {
        expect(text).not.toMatch(/[<>]/);
        // Control characters other than the description's own line breaks.
        expect(text).not.toMatch(/(?!\n)[\p{Cc}\u2028\u2029]/u);
      }
      for (const text of oneLineFields(chat)) expect(text).not.toContain('\n');
      // Every line of the description is one of the guard's own (a heading, a list item, a note), and the
      // forged heading stays inside the line of the text that carried it.
      for (const line of chat.content.description.split('\n')) expect(line).toMatch(/^(\*[A-Z]|• |_)/);
      expect(chat.content.description).not.toMatch(/(^|\n)\*Next steps/);
    }
  });

  test('a markdown link in an exemption reason is not a link in chat', async () => {
    // Was a break: chatText() let `[text](https://...)` through; it now parts `](` with a zero-width space.
    const account = new FakeAccount();
    exemptBucketCarrying(account, 'Open data [Restore the bucket](https://evil.example/restore)');
    await settle(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', OPEN_DATA)));
    const [{ chat }] = published(account);
    for (const text of allFields(chat)) expect(text).not.toMatch(/\]\(https?:/);
  });

  test('a bidirectional override in an exemption reason cannot reorder the line it is on', async () => {
    // Was a break: oneLine() kept bidirectional format characters; it now drops them.
    const account = new FakeAccount();
    exemptBucketCarrying(account, 'Open data \u202E13-10-7202 litnu\u202C');
    await settle(account.handler()(cloudTrailBucketEvent('PutBucketPolicy', OPEN_DATA)));
    const [{ chat }] = published(account);
    for (const text of allFields(chat)) expect(text).not.toMatch(BIDI_CONTROLS);
  });

  test('a chat form read back from a pending-notice record is escaped on the way out', async () => {
    // Was a break: a read-back chat form went out with oneLine() only; now escaped (once) on the way out.
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    account.objects.set(
      `${EVIDENCE_BUCKET}/${EVIDENCE_PREFIXES.pendingNotices}2026-11-25T02:00:00.000Z-forged01.json`,
      JSON.stringify({
        schema: 'registry-guard/pending-notice/v1',
        firstAttemptAt: '2026-11-25T02:00:00.000Z',
        trigger: 'CloudTrail PutBucketAcl',
        notice: {
          subject: 'registry-guard: closed bucket old',
          message: 'Bucket: old',
          attributes: { bucket: 'old' },
          chat: {
            title: '<!channel> restore now',
            description: '<https://evil.example|Restore the bucket>',
            nextSteps: ['<!here> run <https://evil.example|this>'],
            keywords: [],
            eventType: 'BucketClosed',
            relatedResources: [],
            additionalContext: {},
          },
        },
      }),
    );
    await settle(
      account.handler({}, { now: () => at(2 * MINUTE) })(cloudTrailBucketEvent('PutBucketTagging', ROLL)),
    );
    const late = published(account).filter(({ chat }) => chat.metadata.summary.includes('old'));
    expect(late).toHaveLength(1);
    for (const text of allFields(late[0].chat)) expect(text).not.toMatch(/<[!@h]/);
  });
});

describe('issue 17 adversarial: the SNS message under hostile text', () => {
  test('a megabyte error message of quotes, backslashes, emoji and lone surrogates: valid JSON within 256 KB', async () => {
    const account = new FakeAccount();
    account.addBucket(ROLL, { tags: [REGISTRY_TAG] });
    const message = `${'"\\\u{1F512}\u00e9\ud800\n'.repeat(150_000)}end`;
    account.failAlways('GetBucketPolicy', ROLL, s3Error('AccessDenied', message, 403));
    await settle(account.handler()(configChangeEvent(ROLL)));
    const [{ input, byProtocol, chat }] = published(account);
    const attributes = Object.entries(input.MessageAttributes ?? {}).reduce(
      (sum, [name, value]) =>
        sum +
        Buffer.byteLength(name) +
        Buffer.byteLength('String') +
        Buffer.byteLength(value.StringValue ?? ''),
      0,
    );
    const total =
      Buffer.byteLength(input.Message ?? '') + Buffer.byteLength(input.Subject ?? '') + attributes;
    expect(total).toBeLessThanOrEqual(MAX_SNS_MESSAGE_BYTES);
    expect(input.MessageStructure).toBe('json');
    expect(typeof byProtocol.default).toBe('string');
    expect(input.Subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    expect(chat.version).toBe('1.0');
    expect(chat.content.title.length).toBeLessThanOrEqual(CHAT_LIMITS.title);
    expect(chat.content.description.length).toBeLessThanOrEqual(CHAT_LIMITS.description);
    // The JSON SNS delivers is well-formed text: no lone surrogate in any protocol's form.
    for (const text of [input.Message ?? '', byProtocol.default, byProtocol.https]) {
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
  });
});
