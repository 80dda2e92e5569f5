import type { Logger } from '@mailroom/core';
import { type JetStreamClient, StorageType } from '@nats-io/jetstream';
import { type ObjectStore, Objm } from '@nats-io/obj';
import type { ResolvedStreamSettings } from './nats-options.js';

/**
 * The object store holding what a dead letter cannot carry in one message: the body, and when they
 * are too large as well, the headers, of a message whose copy with the failure details would pass
 * the server's `max_payload`. The bucket (`<PREFIX>_DEAD_LETTER_OBJECTS`, stream `OBJ_<bucket>`) is
 * created on first need, with the dead-letter stream's storage and replicas; each object's
 * description is its dead letter's subject, so a purge by endpoint or type finds them.
 */
export class DeadLetterObjects {
  private store: Promise<ObjectStore> | undefined;

  constructor(
    private readonly js: JetStreamClient,
    readonly bucket: string,
    private readonly settings: ResolvedStreamSettings,
    private readonly log: Logger,
  ) {}

  /** Stores `data` under `name` (replacing an earlier object of that name); resolves once stored. */
  async put(name: string, subject: string, data: Uint8Array): Promise<void> {
    const store = await this.open();
    await store.putBlob({ name, description: subject }, data);
  }

  /** The object's bytes, or undefined when it is gone. */
  async get(name: string): Promise<Uint8Array | undefined> {
    const store = await this.open();
    return (await store.getBlob(name)) ?? undefined;
  }

  /** Deletes objects by name; missing ones are fine. */
  async remove(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const store = await this.open();
    for (const name of names) await store.delete(name).catch((error) => this.log.debug({ err: error, name }, 'dead-letter object already gone'));
  }

  /** Deletes every object whose dead letter's subject `matches`. */
  async removeWhere(matches: (subject: string) => boolean): Promise<void> {
    const store = await this.open();
    const infos = await store.list();
    await this.remove(infos.filter((info) => !info.deleted && matches(info.description ?? '')).map((info) => info.name));
  }

  private open(): Promise<ObjectStore> {
    this.store ??= new Objm(this.js)
      .create(this.bucket, { storage: this.settings.storage === 'file' ? StorageType.File : StorageType.Memory, replicas: this.settings.replicas })
      .catch((error) => {
        this.store = undefined;
        throw error;
      });
    return this.store;
  }
}
