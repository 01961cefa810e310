import { useState } from 'react';

/** A save action's state for a form: saving, saved, or the reason it failed. */
export function useSaver(): {
  status: 'idle' | 'saving' | 'saved' | 'error';
  message: string | null;
  run: (action: () => Promise<void>, done?: string) => Promise<void>;
} {
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved' | 'error'>('idle');
  const [message, setMessage] = useState<string | null>(null);
  return {
    status,
    message,
    async run(action, done = 'Saved.') {
      setStatus('saving');
      setMessage(null);
      try {
        await action();
        setStatus('saved');
        setMessage(done);
      } catch (error) {
        setStatus('error');
        setMessage(error instanceof Error ? error.message : String(error));
      }
    },
  };
}

export function SaveStatus({ status, message }: { status: string; message: string | null }) {
  if (!message) return null;
  return (
    <span role={status === 'error' ? 'alert' : 'status'} className={status === 'error' ? 'removed' : 'added'}>
      {message}
    </span>
  );
}
