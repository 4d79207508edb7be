import type { ServerOptions } from 'node:http';
import type { Config } from '../config.js';

// Bounds on slow and idle clients (docs/operations.md, "Timeouts"). Fastify
// turns Node's request timeout off by default, so a client could hold a
// connection open for ever: sending nothing, or a body one byte at a time.
//
// - headers: the request head must be complete this long after the request
//   began (a new connection that sends nothing counts as a request begun);
// - request: the whole request, body included; past either, Node answers 408
//   and closes the connection;
// - idle: a connection on which nothing moves (between keep-alive requests, or
//   a client that stops reading the answer) is closed. Keep it above the load
//   balancer's own idle timeout, so the balancer never reuses a connection the
//   gateway is closing.
//
// Node checks the header and request bounds on an interval of its own (30 s by
// default); it runs here at a quarter of the shorter bound, so a bound holds to
// within a quarter of itself.

interface ServerTimeouts {
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly connectionTimeout: number;
  /** Given to http.createServer as they are. */
  readonly http: ServerOptions;
}

export function serverTimeouts(config: Pick<Config, 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_IDLE_TIMEOUT_MS'>): ServerTimeouts {
  const headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  const requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  const connectionsCheckingInterval = Math.min(5_000, Math.max(50, Math.floor(Math.min(headersTimeout, requestTimeout) / 4)));
  return {
    requestTimeout,
    keepAliveTimeout: config.HTTP_IDLE_TIMEOUT_MS,
    connectionTimeout: config.HTTP_IDLE_TIMEOUT_MS,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval },
  };
}
