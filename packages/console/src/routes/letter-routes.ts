import { failureFingerprint, MailroomError } from '@mailroom/core';
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { contractInfo } from '../edit-and-retry.js';
import { ConsoleErrorCodes } from '../errors.js';
import { letterView } from '../letter-view.js';

const PAGE_MAX = 200;

function limitOf(raw: string | undefined, fallback: number): number {
  const n = Number(raw ?? fallback);
  return Number.isSafeInteger(n) && n > 0 ? Math.min(n, PAGE_MAX) : fallback;
}

/** Read-only routes over dead letters: failure groups, pages of letters, one letter, the archive. */
export async function letterRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const queue = ctx.transport.deadLetters;

  app.get<{ Querystring: { cursor?: string; limit?: string; endpoint?: string; type?: string; fresh?: string } }>('/api/groups', async (request) => {
    const { endpoint, type } = request.query;
    const { groups, computedAt, refreshing } = await ctx.groups.get({ ...(endpoint && { endpoint }), ...(type && { type }) }, request.query.fresh === '1');
    const start = Number(request.query.cursor ?? 0) || 0;
    const limit = limitOf(request.query.limit, 50);
    const page = groups.slice(start, start + limit);
    return {
      groups: page,
      total: groups.length,
      letters: groups.reduce((sum, group) => sum + group.count, 0),
      computedAt: computedAt.toISOString(),
      refreshing,
      nextCursor: start + limit < groups.length ? String(start + limit) : undefined,
    };
  });

  app.get<{ Querystring: { cursor?: string; limit?: string; endpoint?: string; type?: string; fingerprint?: string; before?: string } }>(
    '/api/letters',
    async (request) => {
      const { endpoint, type, fingerprint, cursor, before } = request.query;
      const limit = limitOf(request.query.limit, 50);
      const filter = {
        ...(endpoint && { endpoint }),
        ...(type && { type }),
        ...(before && { before: new Date(before) }),
        order: 'newest-first' as const,
      };
      if (fingerprint === undefined) {
        const page = await queue.page({ ...filter, limit, ...(cursor && { cursor }) });
        return { letters: page.letters.map(summary), nextCursor: page.nextCursor };
      }
      // A group's letters: read pages until `limit` of them match (the cursor is the transport's).
      const found = [];
      let next = cursor;
      do {
        const page = await queue.page({ ...filter, limit: PAGE_MAX, ...(next && { cursor: next }) });
        found.push(...page.letters.filter((letter) => failureFingerprint(letter) === fingerprint));
        next = page.nextCursor;
      } while (next !== undefined && found.length < limit);
      return { letters: found.map(summary), nextCursor: next };
    },
  );

  app.get<{ Params: { id: string } }>('/api/letters/:id', async (request) => {
    const letter = await queue.get(request.params.id);
    const view = letterView(letter);
    const original = view.editedFrom === undefined ? undefined : ctx.archive.list().find((entry) => entry.messageId === view.editedFrom);
    return { letter: view, fingerprint: failureFingerprint(letter), contract: contractInfo(ctx.system, letter), editedFromArchiveId: original?.id };
  });

  app.get('/api/archive', async () => ({
    letters: ctx.archive
      .list()
      .slice(0, PAGE_MAX)
      .map((entry) => ({ ...summary(letterView(entry)), archivedAt: entry.archivedAt, archivedBy: entry.archivedBy, editedTo: entry.editedTo })),
  }));

  app.get<{ Params: { id: string } }>('/api/archive/:id', async (request) => {
    const entry = ctx.archive.get(request.params.id);
    if (!entry) throw new MailroomError(ConsoleErrorCodes.CONSOLE_ARCHIVE_NOT_FOUND, `No archived letter ${request.params.id}`);
    return { letter: letterView(entry), archivedAt: entry.archivedAt, archivedBy: entry.archivedBy, editedTo: entry.editedTo };
  });
}

function summary(letter: {
  id: string;
  endpoint: string;
  messageId: string;
  type: string;
  reason: string;
  errorMessage: string;
  attempts: number;
  deadLetteredAt: Date | string;
}) {
  return {
    id: letter.id,
    endpoint: letter.endpoint,
    messageId: letter.messageId,
    type: letter.type,
    reason: letter.reason,
    errorMessage: letter.errorMessage,
    attempts: letter.attempts,
    deadLetteredAt: typeof letter.deadLetteredAt === 'string' ? letter.deadLetteredAt : letter.deadLetteredAt.toISOString(),
  };
}
