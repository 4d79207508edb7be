import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

// Logs carry no student key, name, birth date, assertion, code or token
// (DESIGN.md section 9). The request serializer drops the query string (codes,
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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
