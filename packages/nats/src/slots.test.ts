import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

describe('Slots', () => {
  it('tryAcquire holds a free slot at once, and never one a waiter is owed', async () => {
    const slots = new Slots(2);
    expect(slots.tryAcquire()).toBe(true);
    expect(await slots.acquire()).toBe(true);
    expect(slots.tryAcquire()).toBe(false);
    const waiter = slots.acquire();
    slots.release(); // goes to the waiter, not to the next tryAcquire
    expect(slots.tryAcquire()).toBe(false);
    expect(await waiter).toBe(true);
    slots.release();
    expect(slots.tryAcquire()).toBe(true);
  });

  it('tryAcquire holds nothing once aborted', async () => {
    const slots = new Slots(1);
    slots.abort();
    expect(slots.tryAcquire()).toBe(false);
    expect(await slots.acquire()).toBe(false);
  });
});
