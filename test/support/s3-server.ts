// A real S3-compatible HTTP server (s3rver) on a random loopback port, storing into a fresh temp directory, so the
// S3 adapter is tested over the wire with the real SDK rather than against mocks. What s3rver lacks: object
// versioning (PutBucketVersioning is taken for CreateBucket, ListObjectVersions answers MethodNotAllowed, a
// versionId on GET is ignored), AbortMultipartUpload, and SigV4 signature checks (it accepts any signature, so a
// presigned URL's signed headers are not enforced here).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver's built-in account */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  resetOnClose?: boolean;
}) => S3rverInstance;

// s3rver ships no type declarations; loading it through require keeps the untyped surface to the lines above.
const require = createRequire(import.meta.url);

export interface S3TestServer {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3TestServer> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = mkdtempSync(join(tmpdir(), 'shopflow-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (e) {
    rmSync(directory, { recursive: true, force: true });
    throw e;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async stop() {
      try {
        await server.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}

/**
 * moto's S3 server (Python, `moto_server`), which does keep object versions: ListObjectVersions, delete markers,
 * GET by versionId. In memory; any credentials are accepted.
 */
export async function startVersionedS3Server(): Promise<S3TestServer> {
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const endpoint = await new Promise<string>((resolvePromise, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`moto_server did not start within 30 s: ${output}`)), 30_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(e);
    };
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolvePromise(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => fail(new Error(`cannot run moto_server (pip install 'moto[server]'): ${e.message}`)));
    child.on('exit', (code) => fail(new Error(`moto_server exited with ${code}: ${output}`)));
  });
  // keep draining its request log so a full pipe never blocks it
  child.stdout.resume();
  child.stderr.resume();
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolvePromise) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
        child.once('exit', () => resolvePromise());
        child.kill();
      }),
  };
}
