import { ProblemsError } from './errors.js';
import { KeyCommandError, runKeysCommand } from './cli/keys.js';
import { AdminCommandError, runClientSecretCommand, runOperatorTokenCommand, runSchoolsCommand, runSeedCommand } from './cli/admin.js';

// Operator commands: `node dist/cli.js <command> ...` (`npm run keys -- list` in a checkout).
// Each command lives in src/cli/ and reads the same environment as the gateway.

const COMMANDS: Record<string, (args: string[], out: (line: string) => void) => Promise<number>> = {
  keys: runKeysCommand,
  'operator-token': runOperatorTokenCommand,
  seed: runSeedCommand,
  schools: runSchoolsCommand,
  'client-secret': runClientSecretCommand,
};

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    process.stderr.write(`usage: cli <${Object.keys(COMMANDS).join('|')}> ...\n`);
    return 2;
  }
  try {
    return await command(args, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    if (err instanceof KeyCommandError || err instanceof AdminCommandError || err instanceof ProblemsError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
