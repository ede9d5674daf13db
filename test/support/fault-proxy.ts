/**
 * A small HTTP proxy between real SDK clients and moto, for tests that need a bad day: a call answered with
 * an AWS error (an SCP's AccessDenied, SNS down), or the world changing just before a call reaches moto (an
 * owner editing the policy while the guard works). Everything else passes through unchanged.
 */
import * as http from 'http';
import * as net from 'net';

/** One request as the proxy sees it. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** What to do with requests that match. */
export interface FaultRule {
  readonly matches: (request: ProxiedRequest) => boolean;
  /** How many matching requests it applies to. @default every one */
  times?: number;
  /**
   * The share of matching requests it applies to, drawn per request from `random`; the others go on to the
   * next rule. A bad day of random throttling. @default every matching request
   */
  readonly probability?: number;
  /** The draws for `probability`: pass {@link seededRandom} for a repeatable run. @default Math.random */
  readonly random?: () => number;
  /** How many requests the rule was applied to; the proxy counts. */
  applied?: number;
  /** Answer with this instead of forwarding. */
  readonly answer?: FaultAnswer;
  /** Compute the answer instead of forwarding (an API moto lacks, emulated over what it has). */
  readonly respond?: (request: ProxiedRequest) => Promise<FaultAnswer>;
  /** Run before forwarding (the world changes first). */
  readonly before?: (request: ProxiedRequest) => Promise<void>;
}

/** What the proxy answers instead of moto. */
export interface FaultAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

/**
 * A repeatable random source in [0, 1) (mulberry32): the same seed draws the same sequence. Which request
 * gets which draw still depends on the order requests arrive in.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An S3-style XML error body. */
export function s3ErrorBody(code: string, message = code): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAULT</RequestId></Error>`;
}

/** A Query-protocol (SNS, STS) error body. */
export function queryErrorBody(code: string, message = code): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>FAULT</RequestId></ErrorResponse>`;
}

/** The proxy: `endpoint` goes where AWS_ENDPOINT_URL would. */
export class FaultProxy {
  port = 0;
  /** Every request that reached the proxy, in order. */
  readonly seen: ProxiedRequest[] = [];
  private rules: FaultRule[] = [];
  private readonly server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const request: ProxiedRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: body.toString('utf8'),
      };
      this.seen.push(request);
      void this.handle(request, body, outgoing);
    });
  });

  constructor(private readonly targetPort: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Adds a rule; the first matching rule with times left applies. */
  add(rule: FaultRule): FaultRule {
    this.rules.push(rule);
    return rule;
  }

  /** Forgets every rule and every request seen. */
  clear(): void {
    this.rules = [];
    this.seen.length = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private async handle(request: ProxiedRequest, body: Buffer, outgoing: http.ServerResponse): Promise<void> {
    const rule = this.rules.find(
      (candidate) => (candidate.times ?? 1) > 0 && candidate.matches(request) && drawn(candidate),
    );
    if (rule !== undefined && rule.times !== undefined) rule.times -= 1;
    if (rule !== undefined) rule.applied = (rule.applied ?? 0) + 1;
    try {
      if (rule?.before !== undefined) await rule.before(request);
    } catch (error) {
      outgoing.statusCode = 500;
      outgoing.end(String(error));
      return;
    }
    let answer = rule?.answer;
    try {
      if (rule?.respond !== undefined) answer = await rule.respond(request);
    } catch (error) {
      outgoing.statusCode = 500;
      outgoing.end(String(error));
      return;
    }
    if (answer !== undefined) {
      outgoing.writeHead(answer.status, {
        'content-type': answer.contentType ?? 'application/xml',
        'x-amz-request-id': 'FAULT',
      });
      outgoing.end(answer.body);
      return;
    }
    const forward = http.request(
      {
        host: '127.0.0.1',
        port: this.targetPort,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forward.on('error', (error) => {
      outgoing.statusCode = 502;
      outgoing.end(String(error));
    });
    forward.end(body);
  }
}

function drawn(rule: FaultRule): boolean {
  return rule.probability === undefined || (rule.random ?? Math.random)() < rule.probability;
}

/**
 * Matches every S3 read (GET or HEAD, path style): ListBuckets, each bucket's settings, the guard's own
 * records. Not S3 Control (`/v20180820/...`), SNS, STS or Config, which use other paths or POST.
 */
export function s3Read(): (request: ProxiedRequest) => boolean {
  return (request) =>
    (request.method === 'GET' || request.method === 'HEAD') && !request.url.startsWith('/v20180820/');
}

/** Matches S3 calls by method, bucket (path style) and a query flag such as `publicAccessBlock`. */
export function s3Call(
  method: string,
  bucket: string,
  queryFlag?: string,
): (request: ProxiedRequest) => boolean {
  return (request) => {
    if (request.method !== method) return false;
    const [path, query = ''] = request.url.split('?');
    if (path !== `/${bucket}` && !path.startsWith(`/${bucket}/`)) return false;
    return queryFlag === undefined || query.split('&').some((part) => part.split('=')[0] === queryFlag);
  };
}

/** Matches a Query-protocol action (SNS Publish, STS GetCallerIdentity) by its Action parameter. */
export function queryAction(action: string): (request: ProxiedRequest) => boolean {
  return (request) => request.method === 'POST' && new URLSearchParams(request.body).get('Action') === action;
}
