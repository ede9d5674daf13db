/**
 * moto's server on loopback, for integration tests and benchmarks: started on a free port, awaited until
 * it answers, reset between tests, stopped at the end. Never reaches beyond 127.0.0.1.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as http from 'http';
import * as net from 'net';
import { S3ControlClient } from '@aws-sdk/client-s3-control';

/** A running moto server. */
export interface MotoServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the value for AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** True when `python3 -m moto.server` can run here. */
export function motoAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
}

/** Starts `python3 -m moto.server -H 127.0.0.1 -p <free port>` and waits until it answers. */
export async function startMotoServer(timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const server: MotoServer = {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    reset: async () => {
      const status = await request(port, 'POST', '/moto-api/reset');
      if (status !== 200) throw new Error(`moto reset answered ${status}`);
    },
    stop: () => stop(child),
  };
  try {
    await waitUntilAnswering(port, child, timeoutMs);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * S3 Control puts the account id in front of the endpoint's host (`123456789012.localhost`), which does not
 * resolve on every machine: send the request to 127.0.0.1 instead. For tests and benchmarks only; pair it
 * with AWS_ENDPOINT_URL_S3_CONTROL=http://localhost:<port>, since `123456789012.127.0.0.1` is not a URL.
 */
export function useLoopbackHost(client: S3ControlClient): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { hostname?: string }).hostname = '127.0.0.1';
      return next(args);
    },
    { step: 'build', name: 'motoLoopbackHostname' },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const listener = net.createServer();
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => {
      const { port } = listener.address() as net.AddressInfo;
      listener.close(() => resolve(port));
    });
  });
}

function request(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: '127.0.0.1', port, method, path }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function waitUntilAnswering(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode} before answering`);
    try {
      if ((await request(port, 'GET', '/moto-api/')) === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`moto did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Points every SDK client built from here on at `proxy` (S3 Control on `localhost`, whose account
 * subdomains resolve), with moto's test credentials; returns what puts the environment back.
 *
 * @example
 * const restoreEnvironment = pointAwsAt(proxy.port);
 * afterAll(() => restoreEnvironment());
 */
export function pointAwsAt(port: number): () => void {
  const overrides: Record<string, string> = {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_S3_CONTROL: `http://localhost:${port}`,
  };
  const saved = Object.fromEntries(Object.keys(overrides).map((key) => [key, process.env[key]]));
  Object.assign(process.env, overrides);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
