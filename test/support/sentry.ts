import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** A stand-in for Sentry's ingest host: a DSN pointing here makes the SDK post its envelopes to it. */
export interface SentryStandIn {
  dsn: string;
  /** Every envelope received, decompressed, as text. */
  envelopes: string[];
  close(): Promise<void>;
}

export async function startSentryStandIn(): Promise<SentryStandIn> {
  const envelopes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      envelopes.push((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    envelopes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
