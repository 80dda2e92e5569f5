import { describe, expect, it } from 'vitest';
import { ResendSignal } from './resend-signal.js';

describe('ResendSignal', () => {
  it('wakes every waiting callback once, and only those waiting at the time', () => {
    const signal = new ResendSignal();
    const woken: string[] = [];
    signal.add(() => woken.push('a'));
    signal.add(() => woken.push('b'));
    signal.resend();
    expect(woken).toEqual(['a', 'b']);
    expect(signal.size).toBe(0);
    signal.resend();
    expect(woken).toEqual(['a', 'b']);
  });

  it('keeps nothing of a callback removed before the resend', () => {
    const signal = new ResendSignal();
    let woken = 0;
    const wake = () => woken++;
    signal.add(wake);
    signal.remove(wake);
    expect(signal.size).toBe(0);
    signal.resend();
    expect(woken).toBe(0);
  });
});
