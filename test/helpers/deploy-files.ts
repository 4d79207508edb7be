import { readFileSync } from 'node:fs';

// Readers for the deployment files, so tests run the gateway with exactly the
// environment the image and compose give it. docker-compose.yml is read with a
// minimal reader for the shape it has (two-space indents, `KEY: value` maps).

const root = new URL('../../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');

/** A service's `environment:` map from docker-compose.yml, values as written (quotes removed). */
export function composeEnvironment(service: string): Record<string, string> {
  const lines = read('docker-compose.yml').split('\n');
  const start = lines.findIndex((l) => l === `  ${service}:`);
  if (start < 0) throw new Error(`no service ${service} in docker-compose.yml`);
  const envAt = lines.findIndex((l, i) => i > start && l === '    environment:');
  const nextService = lines.findIndex((l, i) => i > start && /^ {2}\S/.test(l));
  if (envAt < 0 || (nextService >= 0 && envAt > nextService)) throw new Error(`service ${service} has no environment map`);
  const env: Record<string, string> = {};
  for (const line of lines.slice(envAt + 1)) {
    if (/^ {6}#/.test(line)) continue;
    const match = /^ {6}([A-Z][A-Z0-9_]*): ?(.*)$/.exec(line);
    if (!match) break;
    env[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Resolve compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` against `vars`. */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? arg : '';
  });
}

export interface DockerfileFacts {
  env: Record<string, string>;
  cmd: string[];
  user: string | undefined;
  exposed: string[];
  healthcheck: string | undefined;
  bases: string[];
}

/** The runtime stage's instructions (the last FROM) and every stage's base image. */
export function dockerfile(): DockerfileFacts {
  // Join continuation lines, then read instructions.
  const text = read('Dockerfile').replace(/\\\n\s*/g, ' ');
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const bases = lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1]!);
  const runtime = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
  const facts: DockerfileFacts = { env: {}, cmd: [], user: undefined, exposed: [], healthcheck: undefined, bases };
  for (const line of runtime) {
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (instruction === 'ENV') for (const [, k, v] of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) facts.env[k!] = v!;
    if (instruction === 'CMD') facts.cmd = JSON.parse(args) as string[];
    if (instruction === 'USER') facts.user = args;
    if (instruction === 'EXPOSE') facts.exposed.push(...rest);
    if (instruction === 'HEALTHCHECK') facts.healthcheck = args;
  }
  return facts;
}

/** NAME=value lines of an env file, commented-out names included (they document a setting). */
export function envFileNames(file: string): string[] {
  return [...read(file).matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

export const readRepoFile = read;
