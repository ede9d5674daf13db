/**
 * ListBuckets paging as S3 does it, for tests against moto. moto 5.2.1 honours `MaxBuckets` by cutting the
 * list short and returns no `ContinuationToken`, so a client that pages correctly would silently see only
 * the first page. This fault-proxy rule answers ListBuckets itself: it reads moto's whole list and hands it
 * out in pages with continuation tokens.
 */
import * as http from 'http';
import { FaultAnswer, FaultRule, ProxiedRequest } from './fault-proxy';

/** What the rule saw, for assertions: the query of each ListBuckets call it answered. */
export interface ListBucketsPaging {
  readonly rule: FaultRule;
  readonly calls: URLSearchParams[];
}

/**
 * A rule answering every ListBuckets call from moto's list, `pageSize` at most a page (fewer than asked is
 * allowed by S3's API, and lets a test page a few dozen buckets).
 *
 * @example
 * const paging = pagedListBuckets(moto.port, 25);
 * proxy.add(paging.rule);
 */
export function pagedListBuckets(motoPort: number, pageSize = Number.POSITIVE_INFINITY): ListBucketsPaging {
  const calls: URLSearchParams[] = [];
  const rule: FaultRule = {
    matches: isListBuckets,
    respond: async (request) => {
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      calls.push(query);
      return pageOf(await motoBuckets(motoPort, request, query.get('bucket-region')), query, pageSize);
    },
  };
  return { rule, calls };
}

/** `GET /` (path style), with or without a query: ListBuckets. */
export function isListBuckets(request: ProxiedRequest): boolean {
  return request.method === 'GET' && request.url.split('?')[0] === '/';
}

interface ListedBucket {
  readonly name: string;
  readonly creationDate: string;
}

function pageOf(all: readonly ListedBucket[], query: URLSearchParams, pageSize: number): FaultAnswer {
  const token = query.get('continuation-token');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0 || start > all.length) {
    return {
      status: 400,
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Invalid continuation token</Message></Error>',
    };
  }
  const asked = query.get('max-buckets') === null ? 10_000 : Number(query.get('max-buckets'));
  const end = Math.min(all.length, start + Math.min(asked, pageSize));
  const buckets = all
    .slice(start, end)
    .map(
      (bucket) =>
        `<Bucket><Name>${bucket.name}</Name><CreationDate>${bucket.creationDate}</CreationDate></Bucket>`,
    )
    .join('');
  const next =
    end < all.length
      ? `<ContinuationToken>${Buffer.from(String(end), 'utf8').toString('base64url')}</ContinuationToken>`
      : '';
  return {
    status: 200,
    body:
      '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Owner><ID>bcaf1ffd86f41161ca5fb16fd081034f</ID></Owner><Buckets>${buckets}</Buckets>${next}</ListAllMyBucketsResult>`,
  };
}

/** moto's whole list (no MaxBuckets), read with the caller's own headers. */
function motoBuckets(
  motoPort: number,
  request: ProxiedRequest,
  region: string | null,
): Promise<ListedBucket[]> {
  const path = region === null ? '/' : `/?bucket-region=${encodeURIComponent(region)}`;
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port: motoPort,
        method: 'GET',
        path,
        headers: { authorization: request.headers.authorization ?? '' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const xml = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) {
            reject(new Error(`moto ListBuckets answered ${response.statusCode}: ${xml.slice(0, 200)}`));
            return;
          }
          resolve(
            [
              ...xml.matchAll(/<Bucket>\s*<Name>([^<]*)<\/Name>\s*<CreationDate>([^<]*)<\/CreationDate>/g),
            ].map((match) => ({ name: match[1], creationDate: match[2] })),
          );
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
