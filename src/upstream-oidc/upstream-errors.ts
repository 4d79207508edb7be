import { ResponseBodyError } from 'openid-client';
import { PageError } from '../errors.js';
import { UpstreamUnavailableError } from './providers.js';

// What an upstream failure means for the pupil (docs/upstream-oidc.md): a
// provider that cannot be reached in time is `upstream_unavailable` (503,
// Retry-After); anything it answered that does not pass validation is
// `upstream_invalid` (400). The log gets a reason from a fixed set, never the
// library's message (which can quote a token or code).

/** Run `work`, failing with UpstreamUnavailableError once `ms` have passed (the work itself ends by its own timeouts). */
export function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamUnavailableError('no answer in time')), ms);
  });
  // A late failure of the abandoned work is expected and not an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

const causes = function* (err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
};

/** Did the provider fail to answer (network, timeout, refused destination, its own 5xx)? */
function unreachable(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e instanceof UpstreamUnavailableError) return true;
    if (e instanceof Error && ['TimeoutError', 'AbortError', 'DestinationRefusedError', 'ConnectTimeoutError', 'SocketError'].includes(e.name)) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
    if (typeof (e as { code?: unknown }).code === 'string' && /^E(CONN|HOST|NET|AI_|TIMEDOUT|PIPE)/.test((e as { code: string }).code)) return true;
    const status = e instanceof ResponseBodyError ? e.status : (e as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 500) return true;
  }
  return false;
}

/** The reason for the log: the openid-client error code, or the error's class. */
function reasonOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (err instanceof ResponseBodyError) return `provider_error:${/^[a-z_]{1,40}$/.test(err.error) ? err.error : 'other'}`;
  if (typeof code === 'string' && /^[A-Z_]{1,60}$/.test(code)) return code;
  return err instanceof Error ? err.name : 'unknown';
}

export function upstreamFailure(err: unknown): PageError {
  if (err instanceof PageError) return err;
  if (unreachable(err)) {
    return Object.assign(new PageError('upstream_unavailable', 503, 'The school login service cannot be reached', reasonOf(err)), {
      cause: new Error(`upstream OpenID provider unavailable (${reasonOf(err)})`),
    });
  }
  return new PageError('upstream_invalid', 400, 'The school login answer is not valid', reasonOf(err));
}
