// The ways a message leaves shopflow: e-mail over SMTP (any server, SES's SMTP interface included), SMS through
// SNS (to a phone number or a topic), and a webhook (a JSON POST signed with HMAC-SHA256, which WhatsApp, Slack or
// Teams gateways can take). Each send either resolves or throws a DeliveryError that says whether trying again
// can help; retries themselves belong to the durable queue, not to these functions.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.ts';

export class DeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
    this.permanent = permanent;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// E-mail

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** a stable id, so that a message sent twice (at-least-once delivery) can be recognised by the reader */
  messageId?: string;
  attachments?: Array<{ filename: string; content: Buffer; contentType: string }>;
}

const transports = new Map<string, Transporter>();

function transportFor(url: string): Transporter {
  let t = transports.get(url);
  if (!t) {
    t = nodemailer.createTransport(url);
    transports.set(url, t);
  }
  return t;
}

export function emailAvailable(config: Config): boolean {
  return !!config.smtpUrl;
}

export async function sendEmail(config: Config, msg: MailMessage): Promise<void> {
  if (!config.smtpUrl) throw new DeliveryError('e-mail is not configured (SHOPFLOW_SMTP_URL)', true);
  try {
    await transportFor(config.smtpUrl).sendMail({
      from: config.mailFrom,
      to: msg.to,
      subject: msg.subject,
      text: msg.text,
      ...(msg.html ? { html: msg.html } : {}),
      ...(msg.messageId ? { messageId: msg.messageId } : {}),
      ...(msg.attachments ? { attachments: msg.attachments } : {}),
    });
  } catch (e) {
    const code = (e as { responseCode?: number }).responseCode;
    // 5xx is the server refusing this message for good (unknown mailbox, rejected content); the rest is transient
    throw new DeliveryError(`SMTP: ${(e as Error).message}`, code !== undefined && code >= 500, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SMS through SNS

const snsClients = new Map<string, SNSClient>();

function snsFor(config: Config): SNSClient {
  const key = `${config.alerts.snsRegion}|${config.snsEndpoint ?? ''}`;
  let c = snsClients.get(key);
  if (!c) {
    c = new SNSClient({
      region: config.alerts.snsRegion,
      ...(config.snsEndpoint ? { endpoint: config.snsEndpoint } : {}),
    });
    snsClients.set(key, c);
  }
  return c;
}

/** SNS's limit for one SMS publish is 1600 bytes; alerts are cut well before, at a readable length. */
export const SMS_MAX_CHARS = 600;

const PERMANENT_SNS = new Set([
  'InvalidParameterException',
  'InvalidParameterValueException',
  'NotFoundException',
  'AuthorizationErrorException',
  'EndpointDisabledException',
]);

/** `to` is an E.164 phone number or an SNS topic ARN. */
export async function sendSms(config: Config, to: string, message: string): Promise<void> {
  const target = to.startsWith('arn:') ? { TopicArn: to } : { PhoneNumber: to };
  try {
    await snsFor(config).send(
      new PublishCommand({
        ...target,
        Message: message.length > SMS_MAX_CHARS ? `${message.slice(0, SMS_MAX_CHARS - 1)}…` : message,
        ...(target.PhoneNumber
          ? { MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } } }
          : {}),
      }),
    );
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    throw new DeliveryError(`SNS: ${name}: ${(e as Error).message}`, PERMANENT_SNS.has(name), { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Webhook

export const SIGNATURE_HEADER = 'x-shopflow-signature';
export const DELIVERY_HEADER = 'x-shopflow-delivery';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, as GitHub-style receivers expect. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute the signature over the raw body and compare in constant time. */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function webhookAvailable(config: Config): boolean {
  return !!config.webhookSecret;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export async function postWebhook(config: Config, url: string, body: string, deliveryId: string): Promise<void> {
  // An unsigned POST could be forged by anyone who learns the receiver's URL, so none is ever sent.
  if (!config.webhookSecret) throw new DeliveryError('webhooks need SHOPFLOW_WEBHOOK_SECRET to sign them', true);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'shopflow-webhook/1',
        [SIGNATURE_HEADER]: signBody(config.webhookSecret, body),
        [DELIVERY_HEADER]: deliveryId,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (e) {
    throw new DeliveryError(`webhook ${new URL(url).host}: ${(e as Error).message}`, false, { cause: e });
  }
  await res.body?.cancel().catch(() => {});
  if (res.ok) return;
  const transient = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new DeliveryError(`webhook ${new URL(url).host} answered ${res.status}`, !transient);
}
