/**
 * Publishing a notice: one SNS message that each kind of subscriber reads in its own form. With
 * `MessageStructure: 'json'` the message is a JSON object of one text per protocol, and SNS delivers to each
 * subscription the text under its protocol's key, or the one under `default` (SNS API reference, Publish,
 * MessageStructure: "contain at least a top-level JSON key of "default" with a value that is a string. You
 * can define other top-level keys that define the message you want to send to a specific transport
 * protocol").
 *
 * - `default`, and `email`: the plain text a person reads (also what SQS, Lambda and email-json get);
 * - `https`: the AWS Chatbot custom notification (chatbot.ts). Chatbot subscribes to a topic over HTTPS
 *   (endpoint `https://global.sns-api.chatbot.amazonaws.com`), so it gets this one. So does any other HTTPS
 *   subscriber: see docs/runbook.md, "Chat (AWS Chatbot)".
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { snsSdk } from '../sdk/on-demand';
import { chatbotNotification } from './chatbot';
import { truncate } from './evaluations';
import type { Notice } from './notice';

/** SNS takes at most 256 KiB (262,144 bytes) a message, its subject and attributes included. */
export const MAX_SNS_MESSAGE_BYTES = 262_144;
/** Kept free of the limit: what SNS counts besides the bytes of the message itself is not documented exactly. */
const MARGIN_BYTES = 1_024;

/**
 * Publishes a notice to the on-call topic, its text and its chat form in one message. Throws when SNS
 * refuses it.
 *
 * @example
 * await publishNotice(new SNSClient({}), 'arn:aws:sns:eu-west-1:123456789012:on-call', notice);
 */
export async function publishNotice(sns: SNSClient, topicArn: string, notice: Notice): Promise<void> {
  const { PublishCommand } = snsSdk();
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: notice.subject,
      Message: protocolMessages(notice),
      MessageStructure: 'json',
      MessageAttributes: Object.fromEntries(
        Object.entries(notice.attributes).map(([name, value]) => [
          name,
          { DataType: 'String', StringValue: value },
        ]),
      ),
    }),
  );
}

/**
 * The `MessageStructure: 'json'` message of a notice: `{ default, email, https }`, within SNS's size limit.
 * The text is what shrinks when it must: first `email` goes (email then gets `default`, the same text),
 * then the text loses lines from its end, and says how many.
 *
 * @example
 * JSON.parse(protocolMessages(notice)).default === notice.message; // true for any notice that fits
 */
export function protocolMessages(notice: Notice): string {
  const https = JSON.stringify(chatbotNotification(notice));
  const budget = MAX_SNS_MESSAGE_BYTES - MARGIN_BYTES - bytesBeside(notice);
  const full = JSON.stringify({ default: notice.message, email: notice.message, https });
  if (byteLength(full) <= budget) return full;
  const withoutEmail = JSON.stringify({ default: notice.message, https });
  if (byteLength(withoutEmail) <= budget) return withoutEmail;
  const room = budget - byteLength(JSON.stringify({ default: '', https }));
  return JSON.stringify({ default: cutToBytes(notice.message, room), https });
}

/** What SNS counts besides the message: the subject and each attribute's name, type and value. */
function bytesBeside(notice: Notice): number {
  const attributes = Object.entries(notice.attributes).reduce(
    (sum, [name, value]) => sum + byteLength(name) + byteLength('String') + byteLength(value),
    0,
  );
  return byteLength(notice.subject) + attributes;
}

/**
 * The text's first lines whose JSON-escaped form fits in `room` bytes, and a last line saying how many were
 * left out. One pass over the lines: each line's escaped size is measured once.
 */
function cutToBytes(text: string, room: number): string {
  const lines = text.split('\n');
  const marker = (left: number): string => `[${left} more lines left out to fit SNS's 256 KB message limit]`;
  // The marker's own size, at its largest: the count has at most as many digits as the line count.
  let left = room - escapedBytes(marker(lines.length)) - 2;
  const kept: string[] = [];
  for (const line of lines) {
    const cost = escapedBytes(line) + 2; // and its "\n"
    if (cost > left) {
      // One line too long for what is left: its start, if any of it fits (6 bytes a character at worst).
      const characters = Math.floor((left - 2) / 6);
      if (characters > 1) kept.push(truncate(line, characters));
      break;
    }
    kept.push(line);
    left -= cost;
  }
  const leftOut = lines.length - kept.length;
  return leftOut === 0 ? text : [...kept, marker(leftOut)].join('\n');
}

/** Bytes of a string once JSON-escaped, without its quotes. */
function escapedBytes(text: string): number {
  return byteLength(JSON.stringify(text)) - 2;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
