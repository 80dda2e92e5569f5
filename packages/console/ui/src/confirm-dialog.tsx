import { type ComponentChildren, createContext } from 'preact';
import { useContext, useState } from 'preact/hooks';

type Ask = (detail: string) => Promise<boolean>;
const ConfirmContext = createContext<Ask>(async () => false);

/** The confirmation step of destructive actions: a dialog with the server's own description of what will happen. */
export function ConfirmProvider({ children }: { children: ComponentChildren }) {
  const [pending, setPending] = useState<{ detail: string; resolve: (ok: boolean) => void }>();
  const ask: Ask = (detail) => new Promise((resolve) => setPending({ detail, resolve }));
  const answer = (ok: boolean) => {
    pending?.resolve(ok);
    setPending(undefined);
  };
  return (
    <ConfirmContext.Provider value={ask}>
      {children}
      {pending && (
        <div class="modal" role="dialog" aria-modal="true">
          <div class="modal-box">
            <p data-testid="confirm-detail">{pending.detail}</p>
            <div class="actions">
              <button type="button" class="danger" data-testid="confirm-yes" onClick={() => answer(true)}>
                Confirm
              </button>
              <button type="button" onClick={() => answer(false)}>
                Cancel
              </button>
            </div>
          </div>
        </div>
      )}
    </ConfirmContext.Provider>
  );
}

/** The function that asks the operator to confirm. */
export function useConfirm(): Ask {
  return useContext(ConfirmContext);
}
