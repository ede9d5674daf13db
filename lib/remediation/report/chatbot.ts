/**
 * The chat form of a notice: an AWS Chatbot (Amazon Q Developer in chat applications) custom notification,
 * which Slack and Microsoft Teams show formatted (title, description, next steps) instead of as raw text.
 * The shape, from the custom-notification event schema of the Chatbot administrator guide:
 *
 *   { "version": "1.0", "source": "custom", "id"?,
 *     "content": { "textType": "client-markdown", "title", "description", "nextSteps": [], "keywords": [] },
 *     "metadata": { "threadId", "summary", "eventType", "relatedResources": [], "additionalContext": {} } }
 *
 * The notice carries the pieces (`Notice.chat`, composed here for a bucket's notice); every other notice
 * gets a chat form made from its subject and text. {@link chatbotNotification} applies the limits and the
 * escaping on the way out, whatever the notice, so a notice kept pending and delivered later is held to them
 * too. The SNS message that carries it beside the plain text is sns-message.ts's.
 *
 * Outside text (bucket names, error messages, ARNs, tags) is put on one line and escaped for chat markdown:
 * `&`, `<` and `>` become entities, as Slack's formatting rules ask, and a zero-width space parts `](`, so no
 * text from outside can mention `<!channel>` or forge a link, Slack's or Markdown's. The title, description
 * and next steps, composed already escaped, are escaped once more on the way out where they still need it
 * (a chat form read back from a pending-notice record): escaping them is idempotent, so nothing is escaped
 * twice.
 */
import { ActionRecord } from '../act/actions';
import { truncate } from './evaluations';
import { describeAction, Notice, NoticeContext, RUNBOOK } from './notice';
import { oneLine } from './one-line';
import { BucketOutcome } from './outcome';
import { bucketArnOf } from './partition';
import { restoreCommandFor } from './restore-command';

/**
 * The guard's own bounds on each field, kept under what the chat platforms show: Slack cuts a text section
 * at 3,000 characters; Chatbot documents no limits of its own. A notice's full text stays in email.
 */
export const CHAT_LIMITS = {
  title: 250,
  description: 3_000,
  nextSteps: 5,
  nextStep: 500,
  keywords: 5,
  keyword: 50,
  summary: 250,
  relatedResources: 5,
  contextValue: 500,
} as const;
/** Items of a list (what was public, what was done) shown in chat; the rest are counted. */
export const MAX_CHAT_LIST_ITEMS = 8;

/** The pieces of a notice's chat form, kept on the notice (and in its pending record). */
export interface ChatNotice {
  /** Chat markdown, already escaped. */
  readonly title: string;
  /** Chat markdown, already escaped; may span lines. */
  readonly description: string;
  /** Chat markdown, already escaped: what on-call does next, the restore command among them. */
  readonly nextSteps: readonly string[];
  /** Plain words (escaped on the way out, like every field below). */
  readonly keywords: readonly string[];
  /** Notices with the same thread id form one thread in the channel: one bucket's, one account's. */
  readonly threadId?: string;
  readonly eventType: string;
  /** ARNs and URIs the notice is about. */
  readonly relatedResources: readonly string[];
  readonly additionalContext: Readonly<Record<string, string>>;
}

/** The custom notification as Chatbot reads it. */
export interface ChatbotNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    readonly threadId?: string;
    readonly summary: string;
    readonly eventType: string;
    readonly relatedResources: readonly string[];
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/**
 * The chat form of one bucket's notice: what happened in the title, the facts and what was public and done
 * in the description, and the next steps, the restore command first when there is evidence to restore from.
 *
 * @example
 * const notice = withChat(composeBucketNotice(outcome, context), bucketChatNotice(outcome, context, subject));
 */
export function bucketChatNotice(
  outcome: BucketOutcome,
  context: NoticeContext,
  subject: string,
): ChatNotice {
  const remediation = outcome.remediation;
  const state = stateOf(outcome);
  const registry = outcome.isRegistry === undefined ? 'unknown' : outcome.isRegistry ? 'yes' : 'no';
  const lines = [
    `*Bucket:* ${code(outcome.bucket)}`,
    `*Account:* ${chatText(context.accountId ?? 'unknown')}  *Region:* ${chatText(context.region ?? 'unknown')}`,
    `*Registry bucket:* ${registry}  *Mode:* ${context.mode}${context.mode === 'report' ? ' (nothing was changed)' : ''}`,
    `*Trigger:* ${chatText(context.trigger)}`,
  ];
  if (context.callerArn !== undefined) lines.push(`*Changed by:* ${chatText(context.callerArn)}`);
  if (outcome.unverifiable !== undefined) {
    lines.push(`*Could not verify:* ${chatText(outcome.unverifiable)}: treat the bucket as possibly public.`);
  }
  if (outcome.exemption !== undefined) {
    lines.push(
      `*Exemption in use* until ${chatText(outcome.exemption.expires)}: "${chatText(outcome.exemption.reason)}"`,
    );
  }
  lines.push(
    ...listLines('What was public', outcome.reasons.length > 0 ? outcome.reasons : outcome.problems),
  );
  if (outcome.externalAccess !== undefined && outcome.externalAccess.length > 0) {
    lines.push(...listLines('External access (not removed)', outcome.externalAccess));
  }
  if (remediation !== undefined) {
    lines.push(
      ...listLines(
        'What was done',
        remediation.actions.map((action: ActionRecord) => describeAction(action)),
      ),
    );
  }
  const evidence = remediation?.evidence;
  if (evidence !== undefined) {
    lines.push(
      `*Evidence:* ${code(evidence.uri)} (version ${chatText(evidence.versionId ?? 'none')}, sha256 ${chatText(evidence.sha256)})`,
    );
  }
  const region = context.region ?? 'us-east-1';
  return {
    title: `${EMOJI[state]} ${chatText(subject)}`,
    description: lines.join('\n'),
    nextSteps: nextStepsOf(outcome),
    keywords: ['registry-guard', outcome.isRegistry === true ? 'registry' : 'bucket', state, context.mode],
    threadId: threadIdOf(outcome.bucket),
    eventType: EVENT_TYPES[state],
    relatedResources: [
      bucketArnOf(outcome.bucket, region),
      ...(evidence === undefined ? [] : [evidence.uri]),
    ],
    additionalContext: {
      bucket: outcome.bucket,
      account: context.accountId ?? 'unknown',
      region: context.region ?? 'unknown',
      registryBucket: registry,
      compliance: outcome.compliance,
      mode: context.mode,
    },
  };
}

/**
 * A notice with its chat form.
 *
 * @example
 * withChat(notice, bucketChatNotice(outcome, context, notice.subject));
 */
export function withChat(notice: Notice, chat: ChatNotice): Notice {
  return { ...notice, chat };
}

/**
 * The custom notification for a notice: its own chat form, or one made from its subject and text; every
 * field within {@link CHAT_LIMITS}, all text one-line-safe and escaped.
 *
 * @example
 * JSON.stringify(chatbotNotification(notice)); // the body Chatbot reads
 */
export function chatbotNotification(notice: Notice): ChatbotNotification {
  const chat = notice.chat ?? genericChat(notice);
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: truncate(chatMarkdown(chat.title), CHAT_LIMITS.title),
      description: truncate(
        chat.description
          .split('\n')
          .map((line) => chatMarkdown(line))
          .join('\n'),
        CHAT_LIMITS.description,
      ),
      nextSteps: chat.nextSteps
        .slice(0, CHAT_LIMITS.nextSteps)
        .map((step) => truncate(chatMarkdown(step), CHAT_LIMITS.nextStep)),
      keywords: chat.keywords
        .slice(0, CHAT_LIMITS.keywords)
        .map((keyword) => truncate(chatText(keyword), CHAT_LIMITS.keyword)),
    },
    metadata: {
      threadId:
        chat.threadId === undefined ? undefined : truncate(chatText(chat.threadId), CHAT_LIMITS.keyword * 4),
      summary: truncate(chatText(notice.subject), CHAT_LIMITS.summary),
      eventType: truncate(chatText(chat.eventType), CHAT_LIMITS.keyword),
      relatedResources: chat.relatedResources
        .slice(0, CHAT_LIMITS.relatedResources)
        .map((resource) => truncate(chatText(resource), CHAT_LIMITS.contextValue)),
      additionalContext: Object.fromEntries(
        Object.entries(chat.additionalContext).map(([key, value]) => [
          truncate(chatText(key), CHAT_LIMITS.keyword),
          truncate(chatText(value), CHAT_LIMITS.contextValue),
        ]),
      ),
    },
  };
}

/**
 * Reads back a chat form kept in a pending-notice record; undefined for anything that is not one (the
 * notice then goes out with a chat form made from its text).
 *
 * @example
 * parseChatNotice(JSON.parse(recordText).notice.chat);
 */
export function parseChatNotice(value: unknown): ChatNotice | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const chat = value as Record<string, unknown>;
  const strings = (field: unknown): string[] | undefined =>
    Array.isArray(field) && field.every((item) => typeof item === 'string') ? field : undefined;
  const context = chat.additionalContext;
  const contextEntries =
    context !== null && typeof context === 'object'
      ? Object.entries(context as Record<string, unknown>).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        )
      : undefined;
  const nextSteps = strings(chat.nextSteps);
  const keywords = strings(chat.keywords);
  const relatedResources = strings(chat.relatedResources);
  if (
    typeof chat.title !== 'string' ||
    typeof chat.description !== 'string' ||
    typeof chat.eventType !== 'string' ||
    (chat.threadId !== undefined && typeof chat.threadId !== 'string') ||
    nextSteps === undefined ||
    keywords === undefined ||
    relatedResources === undefined ||
    contextEntries === undefined
  ) {
    return undefined;
  }
  return {
    title: chat.title,
    description: chat.description,
    nextSteps,
    keywords,
    threadId: chat.threadId as string | undefined,
    eventType: chat.eventType,
    relatedResources,
    additionalContext: Object.fromEntries(contextEntries),
  };
}

/**
 * The notice with a paragraph added at the end of its text and of its chat form's description: what a
 * pending notice gains when a later invocation delivers it.
 *
 * @example
 * withAddedParagraph(notice, 'Delivered late: ...');
 */
export function withAddedParagraph(notice: Notice, paragraph: string): Notice {
  return {
    ...notice,
    message: `${notice.message}\n\n${paragraph}`,
    chat:
      notice.chat === undefined
        ? undefined
        : { ...notice.chat, description: `_${chatText(paragraph)}_\n\n${notice.chat.description}` },
  };
}

/**
 * Outside text for chat markdown: one line, with `&`, `<` and `>` as entities (Slack reads `<...>` as a
 * link or a mention) and `](` parted by a zero-width space (Teams reads `[text](address)` as a link).
 *
 * @example
 * chatText('<!channel> [hi](https://example.com)'); // '&lt;!channel&gt; [hi]\u200B(https://example.com)'
 */
export function chatText(text: string): string {
  return chatMarkdown(oneLine(text).replace(/&/g, '&amp;'));
}

/**
 * Chat markdown made safe to send, whether the guard composed it (escaped already) or it was read back from a
 * record (perhaps not): one line, every `&` that does not start `&amp;`, `&lt;` or `&gt;` and every `<` and
 * `>` as entities, every `](` parted. Idempotent, so text escaped already comes out unchanged; the guard's
 * own markdown (`*bold*`, `_notes_`, code spans) is kept.
 */
function chatMarkdown(text: string): string {
  return oneLine(text)
    .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\]\(/g, ']\u200B(');
}

/** What state a bucket notice tells: one word, for keywords, the event type and the title's emoji. */
type ChatState =
  'still-public' | 'failed' | 'unverifiable' | 'exemption' | 'report-mode' | 'closed' | 'unchanged';

const EMOJI: Record<ChatState, string> = {
  'still-public': ':rotating_light:',
  failed: ':rotating_light:',
  unverifiable: ':warning:',
  exemption: ':warning:',
  'report-mode': ':warning:',
  closed: ':lock:',
  unchanged: ':warning:',
};

const EVENT_TYPES: Record<ChatState, string> = {
  'still-public': 'BucketStillPublic',
  failed: 'BucketRemediationFailed',
  unverifiable: 'BucketUnverifiable',
  exemption: 'ExemptionInUse',
  'report-mode': 'BucketNonCompliant',
  closed: 'BucketClosed',
  unchanged: 'BucketNonCompliant',
};

function stateOf(outcome: BucketOutcome): ChatState {
  const remediation = outcome.remediation;
  if (remediation?.stillPublic === true) return 'still-public';
  if (outcome.unverifiable !== undefined) return 'unverifiable';
  if (outcome.exemption !== undefined) return 'exemption';
  if (remediation === undefined) return outcome.whyUnchanged === undefined ? 'report-mode' : 'unchanged';
  if (remediation.actions.some((action) => action.status === 'failed')) return 'failed';
  return 'closed';
}

function nextStepsOf(outcome: BucketOutcome): string[] {
  const remediation = outcome.remediation;
  const steps: string[] = [];
  if (remediation?.stillPublic === true) {
    steps.push('*STILL PUBLIC*: close the bucket by hand now (runbook, "Still public").');
  }
  if (remediation?.loop !== undefined) {
    steps.push(
      `*LOOP*: remediated ${remediation.loop.remediationsInLastHour} times in the last hour: find and stop what keeps reopening it first.`,
    );
  }
  if (outcome.unverifiable !== undefined) {
    steps.push(
      'Treat the bucket as possibly public; find out why the guard could not read it (runbook, "When the guard may not read a bucket").',
    );
  }
  if (outcome.exemption !== undefined) {
    steps.push('Check that someone entitled to decide it made the bucket public (runbook, "Exemptions").');
  }
  const evidence = remediation?.evidence;
  if (evidence !== undefined) {
    const command = restoreCommandFor(evidence);
    const step = `Only if the change was intended, preview the restore (a dry run), then add \`--apply\`: ${code(command)}`;
    steps.push(
      step.length <= CHAT_LIMITS.nextStep && oneLine(command) === command
        ? step
        : 'Only if the change was intended, restore from the evidence: the command is in the email notice.',
    );
  } else if (
    remediation === undefined &&
    outcome.unverifiable === undefined &&
    outcome.exemption === undefined
  ) {
    steps.push('Nothing was changed: close the bucket, or exempt it if it must be public (runbook).');
  }
  steps.push(`Runbook: ${RUNBOOK}`);
  return steps;
}

/**
 * One thread per bucket, whichever notice (closed, interrupted, delivered late): bucket names are unique in
 * a partition, so even an organization's shared topic keeps buckets apart.
 */
function threadIdOf(bucket: string): string {
  return `registry-guard-${bucket}`;
}

/** A titled list, at most {@link MAX_CHAT_LIST_ITEMS} items, the rest counted. */
function listLines(title: string, items: readonly string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, MAX_CHAT_LIST_ITEMS).map((item) => `• ${chatText(item)}`);
  const more = items.length - shown.length;
  return [`*${title}:*`, ...shown, ...(more > 0 ? [`• …and ${more} more (in the email notice)`] : [])];
}

/** A code span, unless the text holds a backtick that would end it early. */
function code(text: string): string {
  const escaped = chatText(text);
  return escaped.includes('`') ? escaped : `\`${escaped}\``;
}

/** The chat form of a notice that has none: its subject and the start of its text. */
function genericChat(notice: Notice): ChatNotice {
  const bucket = notice.attributes.bucket;
  const account = notice.attributes.account;
  return {
    title: `:bell: ${chatText(notice.subject)}`,
    description: notice.message
      .split('\n')
      .map((line) => chatText(line))
      .join('\n'),
    nextSteps: [`Read the whole notice in email, then the runbook: ${RUNBOOK}`],
    keywords: ['registry-guard', ...(notice.attributes.mode === undefined ? [] : [notice.attributes.mode])],
    threadId:
      bucket !== undefined
        ? threadIdOf(bucket)
        : account !== undefined
          ? `registry-guard-account-${account}`
          : undefined,
    eventType:
      bucket !== undefined ? 'BucketNotice' : account !== undefined ? 'AccountNotice' : 'GuardNotice',
    relatedResources: [],
    additionalContext: { ...notice.attributes },
  };
}
