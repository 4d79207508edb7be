import { ProblemsError } from './errors.js';
import { KeyCommandError, runKeysCommand } from './cli/keys.js';
import { AdminCommandError, runClientSecretCommand, runOperatorTokenCommand, runSchoolsCommand, runSeedCommand } from './cli/admin.js';
import { apiTargetOf, warmRootsThroughApi, type ApiTarget } from './cli/admin-api.js';

// Operator commands: `node dist/cli.js <command> ...` (`npm run keys -- list` in a checkout).
// Each command lives in src/cli/ and reads the same environment as the gateway.

// Given `--api URL --token TOKEN` (or ADMIN_API_URL and ADMIN_TOKEN), the admin
// commands go through that gateway's admin API instead (src/cli/admin-api.ts).

type Out = (line: string) => void;

const COMMANDS: Record<string, (args: string[], out: Out, api?: ApiTarget) => Promise<number>> = {
  keys: (args, out) => runKeysCommand(args, out),
  'operator-token': runOperatorTokenCommand,
  seed: runSeedCommand,
  schools: runSchoolsCommand,
  'client-secret': runClientSecretCommand,
  roots: (args, out, api) => {
    if (!api) throw new AdminCommandError('roots warm runs in the gateway whose cache it fills: give its admin API, --api URL --token TOKEN (or ADMIN_API_URL and ADMIN_TOKEN)');
    return warmRootsThroughApi(api, args, out);
  },
};

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    process.stderr.write(`usage: cli <${Object.keys(COMMANDS).join('|')}> ...\n`);
    return 2;
  }
  try {
    const { target, rest } = name === 'keys' ? { target: undefined, rest: args } : apiTargetOf(args);
    return await command(rest, (line) => process.stdout.write(`${line}\n`), target);
  } catch (err) {
    if (err instanceof KeyCommandError || err instanceof AdminCommandError || err instanceof ProblemsError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
