// Copies text to the clipboard and says so for a moment.
import { useEffect, useState } from "react";

export interface CopyButtonProps {
  text: string;
  /** Accessible name; the visible text stays "Copy" / "Copied". */
  label?: string;
}

const confirmationMs = 1500;

export function CopyButton({ text, label = "Copy" }: CopyButtonProps) {
  const [isCopied, setIsCopied] = useState(false);

  useEffect(() => {
    if (!isCopied) return;
    const timer = window.setTimeout(() => setIsCopied(false), confirmationMs);
    return () => window.clearTimeout(timer);
  }, [isCopied]);

  const copy = async () => {
    await navigator.clipboard.writeText(text);
    setIsCopied(true);
  };

  return (
    <button type="button" className="button small" aria-label={label} onClick={() => void copy()}>
      {isCopied ? "Copied" : "Copy"}
    </button>
  );
}
