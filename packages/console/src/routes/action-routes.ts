import { MailroomError } from '@mailroom/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { editAndRetry } from '../edit-and-retry.js';
import { ConsoleErrorCodes } from '../errors.js';
import { type LetterSelection, resolveSelection, selectionKey, selectionOf } from '../letter-selection.js';

const selectionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ids: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, minItems: 1, maxItems: 10_000 },
    fingerprint: { type: 'string', minLength: 1, maxLength: 4000 },
    before: { type: 'string', format: 'date-time' },
    all: { type: 'boolean', const: true },
    confirmToken: { type: 'string', maxLength: 100 },
  },
  minProperties: 1,
} as const;

type SelectionBody = { ids?: string[]; fingerprint?: string; before?: string; all?: boolean; confirmToken?: string };

function whoOf(request: FastifyRequest): string {
  return request.operator?.who ?? 'anonymous';
}

function selectionOrFail(body: SelectionBody): LetterSelection {
  const selection = selectionOf(body);
  if (!selection) throw new MailroomError(ConsoleErrorCodes.CONSOLE_CONFIG, 'Say which dead letters: ids, fingerprint, before (an ISO time) or all: true');
  return selection;
}

/** The routes that change things: retry (as a job), edit and retry, archive and purge (confirmed), and job progress. */
export async function actionRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const queue = ctx.transport.deadLetters;
  // Every action changes the dead letters: the next groups are computed afresh.
  app.addHook('onResponse', async (request) => {
    if (request.method === 'POST' && request.url.startsWith('/api/')) ctx.groups.invalidate();
  });

  app.post<{ Body: SelectionBody }>('/api/retry', { schema: { body: selectionSchema } }, async (request, reply) => {
    const selection = selectionOrFail(request.body);
    const who = whoOf(request);
    const job = ctx.jobs.start(
      'retry',
      who,
      async () => {
        const ids = await resolveSelection(queue, selection);
        ctx.audit.record({ who, action: 'retry', ids, detail: selectionKey(selection) });
        return ids;
      },
      (id) => queue.replay(id),
      (done) => {
        ctx.groups.invalidate();
        ctx.audit.record({ who, action: 'retry finished', ids: [done.id], outcome: `${done.done} retried, ${done.failed} failed` });
      },
    );
    return reply.code(202).send({ job });
  });

  app.get('/api/jobs', async () => ({ jobs: ctx.jobs.list() }));
  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (request) => {
    const job = ctx.jobs.get(request.params.id);
    if (!job) throw new MailroomError(ConsoleErrorCodes.CONSOLE_JOB_NOT_FOUND, `No retry job ${request.params.id}`);
    return { job };
  });

  app.post<{ Params: { id: string }; Body: { body: string } }>(
    '/api/letters/:id/edit-and-retry',
    {
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['body'], properties: { body: { type: 'string', maxLength: 1_000_000 } } },
      },
    },
    async (request) => {
      const letter = await queue.get(request.params.id);
      const who = whoOf(request);
      const result = await editAndRetry({ transport: ctx.transport, archive: ctx.archive, system: ctx.system, letter, bodyText: request.body.body, who });
      ctx.audit.record({ who, action: 'edit-and-retry', ids: [letter.id, letter.messageId, result.newMessageId], outcome: `sent as ${result.newMessageId}` });
      return result;
    },
  );

  const confirmed = async (
    request: FastifyRequest<{ Body: SelectionBody }>,
    reply: FastifyReply,
    action: 'archive' | 'purge',
    run: (ids: string[]) => Promise<number>,
  ) => {
    const selection = selectionOrFail(request.body);
    const scope = `${action}|${selectionKey(selection)}`;
    const ids = await resolveSelection(queue, selection);
    if (!ctx.confirmations.redeem(request.body.confirmToken, scope)) {
      return reply.problem({
        type: 'about:blank',
        title: 'Precondition Required',
        status: 428,
        code: ConsoleErrorCodes.CONSOLE_CONFIRMATION_REQUIRED,
        detail: `Confirm: ${action} ${ids.length} dead letter(s). Send the same request again with confirmToken within 2 minutes.`,
        confirmToken: ctx.confirmations.issue(scope),
        count: ids.length,
      });
    }
    const count = await run(ids);
    ctx.audit.record({ who: whoOf(request), action, ids, outcome: `${count} ${action === 'archive' ? 'archived' : 'purged'}` });
    return { [action === 'archive' ? 'archived' : 'purged']: count };
  };

  app.post<{ Body: SelectionBody }>('/api/archive', { schema: { body: selectionSchema } }, (request, reply) =>
    confirmed(request, reply, 'archive', async (ids) => {
      let count = 0;
      for (const id of ids) {
        const letter = await queue.get(id);
        ctx.archive.keep(letter, whoOf(request));
        count += await queue.purge({ ids: [id] });
      }
      return count;
    }),
  );

  app.post<{ Body: SelectionBody }>('/api/purge', { schema: { body: selectionSchema } }, (request, reply) =>
    confirmed(request, reply, 'purge', async (ids) => (ids.length === 0 ? 0 : queue.purge({ ids }))),
  );
}
