import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed version of a package as this module resolves it (or as `from`, a file URL or
 * path, resolves it). Walks up from the resolved entry to the package's own package.json.
 */
export function packageVersion(name: string, from?: string): string {
  try {
    const entry = from ? createRequireResolve(name, from) : fileURLToPath(import.meta.resolve(name));
    for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (manifest.name === name && manifest.version) return manifest.version;
      } catch {
        // no package.json here
      }
    }
  } catch {
    // not resolvable
  }
  return 'not found';
}

function createRequireResolve(name: string, from: string): string {
  return createRequire(from.startsWith('file:') ? fileURLToPath(from) : from).resolve(name);
}

/** Versions of several packages, keyed by name. */
export function packageVersions(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, packageVersion(name)]));
}

/** Runs a command and resolves with its trimmed stdout, or with `unavailable (...)` when it fails. */
export function commandOutput(command: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, [...args], { timeout: timeoutMs }, (error, stdout) => {
      resolve(error ? `unavailable (${error.message.split('\n')[0]})` : stdout.trim());
    });
  });
}
