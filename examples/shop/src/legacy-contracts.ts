/**
 * Contracts as they were first released, frozen. The legacy `POST /api/v1/orders` route still
 * publishes with them, as an old deployment would: the same message type at an older version.
 * Consumers know only the current contracts (`contracts.ts`) and upcast.
 */
import { defineEvent } from '@mailroom/core';
import { OrderPlacedV1Schema } from './contracts.js';

/** `shop.OrderPlaced` version 1, as its first producer defined it. Not part of the system declaration: one type, one current contract. */
export const OrderPlacedV1 = defineEvent('shop.OrderPlaced', {
  version: 1,
  schema: OrderPlacedV1Schema,
  description: 'A customer placed an order of one product (superseded by v2)',
});
