import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { refuseDestination, type DestinationPolicy, type Refusal } from './destination-policy.js';

// An undici Agent whose every connection is checked against the destination
// policy: IP literals before connecting, host names inside the socket's own
// DNS lookup, so the address checked is the address connected to (docs/remote-jwks.md).

export class DestinationRefusedError extends Error {
  constructor(readonly reason: Refusal, readonly hostname: string, readonly address: string) {
    super(`outbound connection to ${hostname} (${address}) refused: ${reason}`);
    this.name = 'DestinationRefusedError';
  }
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** A DNS lookup returning every address of a name (tests pass their own). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** net.connect's `lookup`, refusing the whole name when any of its addresses is refused. */
function guardedLookup(policy: DestinationPolicy, protocol: string, resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        for (const { address } of all) {
          const refusal = refuseDestination(policy, protocol, hostname, address);
          if (refusal) return callback(new DestinationRefusedError(refusal, hostname, address), '', 0);
        }
        const wanted = all.filter((a) => !options.family || a.family === options.family);
        if (!wanted.length) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, wanted.map((a) => ({ address: a.address, family: a.family })));
        return callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export function createGuardedAgent(policy: DestinationPolicy, options: { connectTimeoutMs: number; resolve?: Resolve; keepAlive?: boolean }): Agent {
  const resolve = options.resolve ?? systemResolve;
  const connectors = new Map<string, buildConnector.connector>();
  const connectorFor = (protocol: string): buildConnector.connector => {
    let connector = connectors.get(protocol);
    if (!connector) {
      connector = buildConnector({ timeout: options.connectTimeoutMs, lookup: guardedLookup(policy, protocol, resolve) });
      connectors.set(protocol, connector);
    }
    return connector;
  };
  return new Agent({
    // A JWKS is fetched a few times an hour: no idle connection is kept. An upstream provider is
    // asked at every login: its connections are kept (each new one is still checked at connect time).
    pipelining: options.keepAlive ? 1 : 0,
    connect: (opts, callback) => {
      // An IP literal is never looked up, so it is checked here.
      if (isIP(opts.hostname)) {
        const refusal = refuseDestination(policy, opts.protocol, opts.hostname, opts.hostname);
        if (refusal) return callback(new DestinationRefusedError(refusal, opts.hostname, opts.hostname), null);
      }
      return connectorFor(opts.protocol)(opts, callback);
    },
  });
}
