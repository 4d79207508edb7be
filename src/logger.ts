import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

// Logs carry no student key, name, birth date, assertion, code or token
// (docs/failure-behaviour.md). The request serializer drops the query string (codes,
// state and assertions travel there) and all headers; redaction is the second
// line of defence for anything logged by hand.

// Exact paths only: wildcard paths cost a walk of every logged object.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'assertion',
  'code_verifier',
  'client_assertion',
  'access_token',
  'id_token',
  'state',
  'nonce',
  'sub',
  'studentKey',
  'token',
  'password',
];

interface SerializableRequest {
  id: string;
  method: string;
  url: string;
  /** The peer's address, or the forwarded one only from a TRUST_PROXY address. */
  ip?: string;
  routeOptions?: { url?: string };
}

export const loggerOptions = (level: string): LoggerOptions => ({
  level,
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  serializers: {
    req: (req: SerializableRequest) => ({
      id: req.id,
      method: req.method,
      path: req.url.split('?', 1)[0],
      route: req.routeOptions?.url,
      ip: req.ip,
    }),
    res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    // Only these fields: third-party errors may hold payloads (jose keeps the claims set on some).
    err: (err: Error & { code?: unknown }) => ({ type: err.name, message: err.message, code: err.code, stack: err.stack }),
  },
});

/** How long a log line may wait in the stdout buffer. */
export const LOG_FLUSH_MS = 100;

/**
 * stdout, written in batches: one write per line costs a syscall and a
 * wake-up of whatever reads the logs, which made logging a quarter of a
 * login's CPU. Lines are written once 8 KiB have gathered or every
 * LOG_FLUSH_MS, and synchronously when the process exits (pino's exit hook);
 * only a SIGKILL can lose the last LOG_FLUSH_MS of lines.
 */
export function bufferedStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 8 * 1024, periodicFlush: LOG_FLUSH_MS });
}

export function createLogger(level: string, destination: DestinationStream = bufferedStdout()): Logger {
  return pino(loggerOptions(level), destination);
}
