// CLI entry (`npm run -s cli -- <command> [flags]`): a table from command name to handler. Each area adds
// its commands from its own main/cli/<area>-commands.ts (exporting a CommandTable from ./args) with one
// spread line below. Handlers parse their flags with parseArgs and throw UsageError for bad usage (exit 2);
// any other error prints its message and exits 1.
import { dataCommands } from './data-commands'
import { gpt2Commands } from './gpt2-commands'
import { trainCommands } from './train-commands'
import { serveCommands } from './serve-commands'
import { sweepCommands } from './sweep-command'
import { breakdownCommands } from './breakdown-command'
import { UsageError, type CommandTable } from './args'

export const commands: CommandTable = {
  ...gpt2Commands,
  ...dataCommands,
  ...trainCommands,
  ...serveCommands,
  ...sweepCommands,
  ...breakdownCommands,
}

function listCommands(): string {
  return Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(12)} ${typeof c === 'function' ? '' : c.help}`.trimEnd())
    .join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === 'help') {
    process.stderr.write(`usage: npm run -s cli -- <command> [flags]\ncommands:\n${listCommands()}\n`)
    return name ? 0 : 2
  }
  const cmd = commands[name]
  if (!cmd) {
    process.stderr.write(`error: unknown command "${name}"\ncommands:\n${listCommands()}\n`)
    return 2
  }
  try {
    return await (typeof cmd === 'function' ? cmd(rest) : cmd.run(rest))
  } catch (e) {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`)
    return e instanceof UsageError ? 2 : 1
  }
}

// A closed pipe (`... | head`) is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0)
  throw e
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e) => {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exitCode = 1
  },
)
