import { describe, expect, it } from 'vitest';
import { formatSseEvent } from './sse-writer.js';

describe('formatSseEvent', () => {
  it('writes id, event and JSON data, ending with a blank line', () => {
    expect(formatSseEvent({ id: 3, event: 'step', data: { a: 1 } })).toBe('id: 3\nevent: step\ndata: {"a":1}\n\n');
  });

  it('splits multi-line data and strips newlines from id and event, so a payload cannot inject fields', () => {
    expect(formatSseEvent({ id: '1\nevent: evil', event: 'x\r\ny', data: 'line 1\nid: 99\r\nline 3' })).toBe(
      'id: 1event: evil\nevent: xy\ndata: line 1\ndata: id: 99\ndata: line 3\n\n',
    );
  });
});
