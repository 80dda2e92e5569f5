import { type OperationSnapshot, watchOperation } from '@mailroom/http/browser';
import { useEffect, useState } from 'preact/hooks';
import type { BreakerState, ProductView, QuoteAnswered, QuoteQueued, QuoteView } from '../../../src/gateway/api-types.js';
import { formatCents } from '../../../src/money.js';
import { sendJson } from '../api.js';

type Result =
  | { kind: 'answered'; quote: QuoteView; ms: number }
  | { kind: 'queued'; queued: QuoteQueued; operation: OperationSnapshot | undefined }
  | { kind: 'error'; message: string };

function QuoteLine({ quote }: { quote: QuoteView }) {
  return (
    <span>
      {quote.quantity} × {quote.name} at {formatCents(quote.unitPriceCents)} = <b>{formatCents(quote.quantity * quote.unitPriceCents)}</b>,{' '}
      {quote.available ? <span class="ok">{quote.inStock} in stock</span> : <span class="bad">only {quote.inStock} in stock</span>}
    </span>
  );
}

/**
 * The one synchronous question: a price and stock quote from inventory over RPC, gRPC (timeout, retry,
 * circuit breaker). When the call cannot be made, the gateway queues it as a command and the page
 * follows the answer as an operation.
 */
export function QuoteCard({ products, breaker }: { products: readonly ProductView[]; breaker: BreakerState | undefined }) {
  const [sku, setSku] = useState('mug');
  const [quantity, setQuantity] = useState(2);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | undefined>(undefined);
  const queuedHref = result?.kind === 'queued' ? result.queued.href : undefined;

  useEffect(() => {
    if (!queuedHref) return;
    const watch = watchOperation(queuedHref, (operation) => setResult((r) => (r?.kind === 'queued' ? { ...r, operation } : r)));
    return () => watch.close();
  }, [queuedHref]);

  const ask = async () => {
    setBusy(true);
    const started = performance.now();
    try {
      const { body, status } = await sendJson<QuoteAnswered | QuoteQueued>('POST', '/api/quotes', { sku, quantity });
      if (status === 202) setResult({ kind: 'queued', queued: body as QuoteQueued, operation: undefined });
      else setResult({ kind: 'answered', quote: (body as QuoteAnswered).quote, ms: Math.round(performance.now() - started) });
    } catch (reason) {
      setResult({ kind: 'error', message: (reason as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const answer = result?.kind === 'queued' ? result.operation?.entries.find((e) => e.kind === 'completed')?.data : undefined;
  return (
    <section class="card">
      <div class="card-head">
        <h2>Ask inventory</h2>
        <span class="muted small">a synchronous question, over gRPC{breaker ? ` · breaker ${breaker}` : ''}</span>
      </div>
      <div class="quote-form">
        <select value={sku} data-testid="quote-sku" onChange={(e) => setSku(e.currentTarget.value)}>
          {products.map((p) => (
            <option key={p.sku} value={p.sku}>
              {p.name}
            </option>
          ))}
        </select>
        <input type="number" min={1} max={99} value={quantity} data-testid="quote-quantity" onInput={(e) => setQuantity(Number(e.currentTarget.value) || 1)} />
        <button type="button" class="ghost" disabled={busy} data-testid="ask-quote" onClick={ask}>
          {busy ? 'Asking…' : 'Price & stock'}
        </button>
      </div>
      {result && (
        <div class={`quote-result ${result.kind}`} data-testid="quote-result" data-kind={result.kind} data-done={answer ? 'true' : 'false'}>
          {result.kind === 'answered' && (
            <>
              <span class="tag">200 OK · {result.ms} ms</span> <QuoteLine quote={result.quote} />
            </>
          )}
          {result.kind === 'queued' && (
            <>
              <span class="tag warn">202 Accepted</span> Inventory did not answer (<code>{result.queued.reason}</code>), so the gateway queued{' '}
              <code>shop.RequestQuote</code> for it.{' '}
              {answer ? (
                <>
                  Answered from the queue: <QuoteLine quote={answer as QuoteView} />
                </>
              ) : (
                <span class="pending-text">
                  <span class="spinner" aria-hidden="true" /> waiting for inventory…
                </span>
              )}
            </>
          )}
          {result.kind === 'error' && <span class="bad">{result.message}</span>}
        </div>
      )}
    </section>
  );
}
