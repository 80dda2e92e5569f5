import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

/** The shop's own problem codes (the gateway's answers that no Mailroom code describes). */
export const ShopProblems = {
  /** Inventory never answered since the gateway started, so it has no prices to place an order with. */
  CATALOG_UNAVAILABLE: 'SHOP_CATALOG_UNAVAILABLE',
  /** An order names a product the catalog does not have, or too many of one. */
  INVALID_ORDER: 'SHOP_INVALID_ORDER',
  /** The supervisor's control channel refused or failed. */
  CONTROL_FAILED: 'SHOP_CONTROL_FAILED',
} as const;

/** Answers with problem details (RFC 9457) through the `mailroomFastify` decorator. */
export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string): FastifyReply {
  return reply.problem({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code, detail });
}
