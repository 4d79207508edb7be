// A port that cannot be taken at start, as one line a person can act on:
// which port, on which address, and the setting that moves it. Node's error
// names the port it failed on, so the line is right whichever of several
// listeners failed.

/** The variable that sets each port, by port number. */
export type PortSettings = ReadonlyMap<number, string>;

/** One line for a listen failure (port in use or not permitted); undefined for any other error. */
export function listenProblem(err: unknown, settings: PortSettings, who = 'gateway'): string | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES') return undefined;
  const port = e.port;
  const where = `${e.address ?? 'localhost'}:${port ?? '?'}`;
  const setting = port === undefined ? undefined : settings.get(port);
  const why = e.code === 'EADDRINUSE' ? 'is already in use (another process listens there)' : 'may not be used by this user';
  return `${who}: cannot listen on ${where}: the port ${why}${setting ? `; set ${setting} to a free port` : ''}`;
}
