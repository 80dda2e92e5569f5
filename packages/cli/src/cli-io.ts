import { createInterface } from 'node:readline';

/**
 * Where a `mailroom` run reads and writes: the process's streams by default, something else in
 * tests or when embedding the CLI. Every line the CLI prints goes through it.
 */
export interface CliIo {
  /** Writes to standard output (results, `--json` documents). */
  stdout(text: string): void;
  /** Writes to standard error (errors, warnings, progress, prompts). */
  stderr(text: string): void;
  /** Standard input, to read a confirmation from. */
  readonly stdin: NodeJS.ReadableStream;
  /** True when standard input is a terminal (a person can answer a prompt). */
  readonly stdinIsTTY: boolean;
  /** True when standard error is a terminal (progress bars are drawn only then). */
  readonly stderrIsTTY: boolean;
  /** The stream progress bars draw on. */
  readonly progressStream: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** The {@link CliIo} of the current process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    progressStream: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Asks a question on standard error and resolves with the first line typed on standard input ('' at end of input). */
export function ask(io: CliIo, question: string): Promise<string> {
  return new Promise((resolve) => {
    const reader = createInterface({ input: io.stdin, terminal: false });
    let answered = false;
    io.stderr(question);
    reader.once('line', (line) => {
      answered = true;
      reader.close();
      resolve(line.trim());
    });
    reader.once('close', () => {
      if (!answered) resolve('');
    });
  });
}
