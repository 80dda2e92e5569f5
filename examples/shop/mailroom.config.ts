// The shop for the `mailroom` CLI (in this repository `npm run mailroom -- graph`, `asyncapi`, `contracts check`, `dlq list`...),
// run from examples/shop (or with --config examples/shop/mailroom.config.ts). The transport is the
// one `npm start` uses: MAILROOM_TRANSPORT, else the SQLite broker file in the shop's data directory.
import { defineSystem } from '@mailroom/core';
import { readShopConfig } from './src/shop-config.js';
import { shopSystem } from './src/system.js';

export default defineSystem({ ...shopSystem, transport: readShopConfig().transportUrl });
