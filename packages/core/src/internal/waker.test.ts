import { describe, expect, it } from 'vitest';
import { Waker } from './waker.js';

describe('Waker', () => {
  it('keeps a wake that came before the wait, and several wakes count as one', async () => {
    const waker = new Waker();
    waker.wake();
    waker.wake();
    waker.wake();
    expect(await waker.wait(60_000)).toBe(true);
    expect(await waker.wait(5)).toBe(false);
  });

  it('a wake ends the wait in progress; without one the wait times out', async () => {
    const waker = new Waker();
    const waiting = waker.wait(60_000);
    waker.wake();
    expect(await waiting).toBe(true);
    expect(await waker.wait(1)).toBe(false);
    // The wake that ended the wait was used up by it.
    const again = waker.wait(5);
    expect(await again).toBe(false);
  });

  it('take() drops a pending wake', async () => {
    const waker = new Waker();
    expect(waker.take()).toBe(false);
    waker.wake();
    expect(waker.take()).toBe(true);
    expect(await waker.wait(1)).toBe(false);
  });

  it('never keeps the process alive while waiting', async () => {
    const waker = new Waker();
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const waiting = waker.wait(60_000);
    // An unref'd timer is not an active resource.
    expect(timers()).toBe(before);
    waker.wake();
    await waiting;
    // Unless asked to: a loop alone in its process must keep it running.
    const keeping = new Waker({ keepAlive: true });
    const kept = keeping.wait(60_000);
    expect(timers()).toBe(before + 1);
    keeping.close();
    await kept;
    expect(timers()).toBe(before);
  });

  it('clears the timer of a wait a wake ended, so it cannot end a later wait', async () => {
    const waker = new Waker();
    const first = waker.wait(10);
    waker.wake();
    expect(await first).toBe(true);
    const second = waker.wait(Number.POSITIVE_INFINITY);
    const later = setTimeout(() => waker.wake(), 50);
    expect(await second).toBe(true);
    clearTimeout(later);
    // Had the first timer survived, the second wait would have ended with false.
  });

  it('close() releases the waiter and later waits return at once', async () => {
    const waker = new Waker();
    const waiting = waker.wait(Number.POSITIVE_INFINITY);
    waker.close();
    expect(await waiting).toBe(true);
    expect(waker.closed).toBe(true);
    expect(await waker.wait(Number.POSITIVE_INFINITY)).toBe(true);
  });

  it('refuses a second wait while one is in progress', () => {
    const waker = new Waker();
    void waker.wait(1);
    expect(() => waker.wait(1)).toThrow('one wait at a time');
    waker.close();
  });
});
