import type { OperationEntry, OperationHeader, OperationStore } from '@mailroom/core';
import { MailroomError } from '@mailroom/core';
import { checkNumberOption, Waker, WHOLE_FROM_1 } from '@mailroom/core/internal';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isValidCorrelationId } from '../correlation-context.js';
import { HttpErrorCodes } from '../errors.js';
import { isTerminalKind, type OperationView, operationView } from './operation-view.js';
import { SseWriter } from './sse-writer.js';

/** Options of {@link operationRoutes}; register it with a `prefix` such as `/api/operations`. */
export interface OperationRoutesOptions {
  store: OperationStore;
  /**
   * How often an event stream reads the store for new entries. Default 1000 ms. Entries appended
   * through the same store object in this process wake the streams at once; other processes are
   * seen by this polling.
   */
  pollIntervalMs?: number;
  /** Longest silence on an event stream before a heartbeat comment. Default 15 000 ms. */
  heartbeatMs?: number;
  /** The reconnection delay sent to `EventSource` clients (`retry:`). Default 2000 ms. */
  retryMs?: number;
  /**
   * Most event streams one client (remote address, `request.ip`) may hold open at once; one more
   * answers problem 429 `MAILROOM_ERR_OPERATION_TOO_MANY_STREAMS` with `Retry-After` (the browser
   * client then polls). Default 16.
   */
  maxStreamsPerClient?: number;
}

/** The data of each Server-Sent Event: the operation as of that entry (without the entry list) plus the entry. */
export type OperationEventData = Omit<OperationView, 'entries'> & { readonly entry: OperationEntry };

interface IdParams {
  id: string;
}

const paramsSchema = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;

function notFound(id: string): MailroomError {
  return new MailroomError(HttpErrorCodes.OPERATION_NOT_FOUND, `No operation ${JSON.stringify(id)}`);
}

function lastEventId(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.lastEventId;
  const raw = typeof header === 'string' && header !== '' ? header : typeof query === 'string' && query !== '' ? query : undefined;
  if (raw === undefined) return 0;
  if (!/^\d{1,9}$/.test(raw.trim())) {
    throw new MailroomError(
      HttpErrorCodes.OPERATION_BAD_EVENT_ID,
      `Last-Event-ID must be a whole number (the seq of the last entry seen), got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw.trim());
}

function integer(value: number | undefined, fallback: number, what: string): number {
  return checkNumberOption(
    value ?? fallback,
    `operationRoutes: ${what}`,
    WHOLE_FROM_1,
    (message) => new MailroomError(HttpErrorCodes.OPERATION_CONFIG, message),
  );
}

/** The data of the SSE event for `entries[index]`: the view as it was right after that entry. */
function eventData(header: OperationHeader, entries: readonly OperationEntry[], index: number): OperationEventData {
  const { entries: _all, ...view } = operationView(header, entries.slice(0, index + 1));
  return { ...view, entry: entries[index] as OperationEntry };
}

/**
 * Fastify routes following operations, reading only the {@link OperationStore} (so any number of
 * gateway processes can serve them): `GET /:id` answers the {@link OperationView} as JSON;
 * `GET /:id/events` streams each history entry as a Server-Sent Event with `id: <seq>` and
 * `event: <kind>`, from the entry after `Last-Event-ID` (header, or `lastEventId` query), sends
 * heartbeats, and ends after the terminal entry. A stream resumed after a terminal entry answers
 * `204`, which stops `EventSource` from reconnecting. Unknown ids answer problem 404. Needs the
 * `mailroomFastify` plugin. Throws `MAILROOM_ERR_OPERATION_CONFIG` for bad options.
 */
export async function operationRoutes(app: FastifyInstance, options: OperationRoutesOptions): Promise<void> {
  const store = options?.store;
  if (!store || typeof store.read !== 'function') throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'operationRoutes needs store: an OperationStore');
  if (!app.hasReplyDecorator('problem')) {
    throw new MailroomError(HttpErrorCodes.OPERATION_CONFIG, 'operationRoutes needs the mailroomFastify plugin: register it on the app before these routes');
  }
  const pollIntervalMs = integer(options.pollIntervalMs, 1000, 'pollIntervalMs');
  const heartbeatMs = integer(options.heartbeatMs, 15_000, 'heartbeatMs');
  const retryMs = integer(options.retryMs, 2000, 'retryMs');
  const maxStreamsPerClient = integer(options.maxStreamsPerClient, 16, 'maxStreamsPerClient');
  const streams = new Set<SseWriter>();
  const streamsByClient = new Map<string, number>();
  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.end();
    done();
  });

  const load = async (id: string, afterSeq = 0) => {
    const stored = isValidCorrelationId(id) ? await store.read(id, afterSeq) : undefined;
    if (!stored) throw notFound(id);
    return stored;
  };

  app.get<{ Params: IdParams }>('/:id', { schema: { params: paramsSchema } }, async (request, reply) => {
    const stored = await load(request.params.id);
    reply.header('cache-control', 'no-store');
    return operationView(stored.operation, stored.entries);
  });

  app.get<{ Params: IdParams }>('/:id/events', { schema: { params: paramsSchema } }, async (request, reply: FastifyReply) => {
    const after = lastEventId(request);
    const stored = await load(request.params.id);
    const entries = [...stored.entries];
    const header = stored.operation;
    const terminal = entries.find((entry) => isTerminalKind(entry.kind));
    if (terminal && terminal.seq <= after) return reply.code(204).header('cache-control', 'no-store').send();
    const client = request.ip;
    const open = streamsByClient.get(client) ?? 0;
    if (open >= maxStreamsPerClient) {
      reply.header('retry-after', String(Math.ceil(retryMs / 1000)));
      throw new MailroomError(
        HttpErrorCodes.OPERATION_TOO_MANY_STREAMS,
        `This client already follows ${open} operations over event streams (at most ${maxStreamsPerClient}); close one, or poll GET ${request.url.replace(/\/events(\?.*)?$/, '')}`,
      );
    }
    streamsByClient.set(client, open + 1);

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const writer = new SseWriter(raw);
    streams.add(writer);
    // Woken by an append to this operation (a wake before the wait is kept) and by the stream's end.
    const changes = new Waker();
    const subscription = store.onAppend((id) => {
      if (id === header.id) changes.wake();
    });
    void writer.closed.then(() => {
      const left = (streamsByClient.get(client) ?? 1) - 1;
      if (left > 0) streamsByClient.set(client, left);
      else streamsByClient.delete(client);
      streams.delete(writer);
      subscription.dispose();
      changes.close();
    });

    void (async () => {
      let sent = after;
      try {
        await writer.retry(retryMs);
        while (!writer.isClosed) {
          for (let index = 0; index < entries.length; index++) {
            const entry = entries[index] as OperationEntry;
            if (entry.seq <= sent) continue;
            await writer.event({ id: entry.seq, event: entry.kind, data: eventData(header, entries, index) });
            sent = entry.seq;
            if (isTerminalKind(entry.kind)) {
              writer.end();
              return;
            }
          }
          await changes.wait(Math.min(pollIntervalMs, Math.max(0, heartbeatMs - (Date.now() - writer.lastWriteAt))));
          if (writer.isClosed) return;
          if (Date.now() - writer.lastWriteAt >= heartbeatMs) await writer.comment(`heartbeat ${new Date().toISOString()}`);
          try {
            const fresh = await store.read(header.id, entries[entries.length - 1]?.seq ?? 0);
            if (fresh) entries.push(...fresh.entries);
          } catch (error) {
            request.log.warn({ err: error, operationId: header.id }, 'reading the operation store failed; retrying at the next poll');
          }
        }
      } catch (error) {
        request.log.error({ err: error, operationId: header.id }, 'operation event stream failed');
        writer.end();
      }
    })();
    return reply;
  });
}
