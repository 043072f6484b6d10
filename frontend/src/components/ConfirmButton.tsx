// A button for destructive actions (cancel run, revoke token): the first click
// asks, the second within a few seconds acts.
import { useEffect, useState, type ReactNode } from "react";

export interface ConfirmButtonProps {
  children: ReactNode;
  /** What the button says while waiting for the confirming click. */
  confirmLabel?: ReactNode;
  onConfirm: () => void;
  disabled?: boolean;
}

const armedMs = 4000;

export function ConfirmButton({
  children,
  confirmLabel = "Click again to confirm",
  onConfirm,
  disabled,
}: ConfirmButtonProps) {
  const [isArmed, setIsArmed] = useState(false);

  useEffect(() => {
    if (!isArmed) return;
    const timer = window.setTimeout(() => setIsArmed(false), armedMs);
    return () => window.clearTimeout(timer);
  }, [isArmed]);

  const click = () => {
    if (!isArmed) {
      setIsArmed(true);
      return;
    }
    setIsArmed(false);
    onConfirm();
  };

  return (
    <button
      type="button"
      className={`button danger${isArmed ? " armed" : ""}`}
      disabled={disabled}
      onClick={click}
      onBlur={() => setIsArmed(false)}
    >
      {isArmed ? confirmLabel : children}
    </button>
  );
}
