import type { Readable, Writable } from 'node:stream';

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92];
const LEVEL_COLORS: Record<string, number> = { WARN: 33, ERROR: 31 };

/** Whether to colour output: a terminal, unless `NO_COLOR` is set; `FORCE_COLOR` forces it. */
export function useColor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Makes `name   | ` prefixes of one width, each name in a colour of its own. */
export class LogPrefixer {
  private readonly colors = new Map<string, number>();

  constructor(
    private readonly width: number,
    private readonly color: boolean,
    private readonly out: Writable = process.stdout,
  ) {}

  /** The prefix of `name`, padded to the common width. */
  prefix(name: string): string {
    const padded = name.padEnd(this.width);
    if (!this.color) return `${padded} | `;
    const service = name.split('#')[0] as string;
    if (!this.colors.has(service)) this.colors.set(service, COLORS[this.colors.size % COLORS.length] as number);
    return `\x1b[${this.colors.get(service)}m${padded}\x1b[0m \x1b[2m|\x1b[0m `;
  }

  /** Writes one line with `name`'s prefix; WARN and ERROR words are coloured. */
  line(name: string, text: string): void {
    const body = this.color ? text.replace(/^(WARN|ERROR)\b/, (level) => `\x1b[${LEVEL_COLORS[level]}m${level}\x1b[0m`) : text;
    this.out.write(`${this.prefix(name)}${body}\n`);
  }

  /** Copies a child's output stream line by line, each line prefixed with `name`. */
  pipe(name: string, stream: Readable): void {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.line(name, line.replace(/\r$/, ''));
    });
    stream.on('end', () => {
      if (pending !== '') this.line(name, pending);
      pending = '';
    });
  }
}
