import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

type Listener = () => void;

interface FileWatch {
  watcher: FSWatcher | undefined;
  listeners: Set<Listener>;
}

const watches = new Map<string, FileWatch>();

/**
 * Wakes consumers when any process writes to a SQLite broker file: one `fs.watch` (inotify on
 * Linux) per file and process on the file's directory, firing on every change to the `-wal` file
 * (this process's own commits included), plus direct calls from writers in this process. Returns
 * an unsubscribe function.
 * Polling in the consumer stays as the safety net where file watching is unavailable.
 */
export function onBrokerWrite(path: string, listener: Listener): () => void {
  let entry = watches.get(path);
  if (!entry) {
    entry = { watcher: undefined, listeners: new Set() };
    const current = entry;
    const wal = `${basename(path)}-wal`;
    try {
      current.watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === wal) for (const l of current.listeners) l();
      });
      current.watcher.on('error', () => {
        current.watcher?.close();
        current.watcher = undefined;
      });
    } catch {
      current.watcher = undefined;
    }
    watches.set(path, entry);
  }
  entry.listeners.add(listener);
  const owned = entry;
  return () => {
    owned.listeners.delete(listener);
    if (owned.listeners.size === 0) {
      owned.watcher?.close();
      watches.delete(path);
    }
  };
}

/**
 * Tells this process's consumers of `path` that something was written, without waiting for the
 * file watcher; `except` (the writer's own listener, whose consumers already claimed in the same
 * transaction) is left out.
 */
export function signalBrokerWrite(path: string, except?: Listener): void {
  const entry = watches.get(path);
  if (entry) for (const listener of entry.listeners) if (listener !== except) listener();
}
