import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

/**
 * An HTTP server whose idle keep-alive connections outlive the client's: Node's default (5 s) lets a
 * client whose event loop was busy for a few seconds reuse a socket the server has just closed, and the
 * request fails with "other side closed". 65 s is above the usual client and load-balancer timeouts.
 */
export function httpServer(handler: RequestListener, tls: TlsFiles | null = null): Server {
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  server.keepAliveTimeout = 65_000;
  // Above the keep-alive time, as Node asks: otherwise a reused idle socket can time out mid-headers.
  server.headersTimeout = 66_000;
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting, lets in-flight requests finish, and cuts idle keep-alive connections; forces after `deadlineMs`. */
export function closeServer(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, deadlineMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Listen address and port fields, as every listening component's config spells them. */
export const portSchema = z.number().int().min(0).max(65535);
export const hostSchema = z.string().min(1);

/** `tls`: a certificate and key (PEM files) for the OTLP receivers and the API; empty: plain TCP. */
export const tlsConfigSchema = z
  .object({ cert_file: z.string().default(''), key_file: z.string().default('') })
  .strict()
  .refine((t) => (t.cert_file === '') === (t.key_file === ''), { message: 'set both cert_file and key_file, or neither' });
export type TlsConfig = z.infer<typeof tlsConfigSchema>;

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** Reads the PEM files of a TLS config (null when TLS is off); a missing file is a config error of the caller's. */
export function readTls(cfg: TlsConfig): TlsFiles | null {
  if (!cfg.cert_file) return null;
  return { cert: readFileSync(cfg.cert_file), key: readFileSync(cfg.key_file) };
}
