// The JSON input a new cron or schedule will start its runs with, as its form's
// JsonEditor reports it; `reset` empties the editor after a successful create.
import { useState } from "react";

export function useRunInput() {
  const [value, setValue] = useState<unknown>({});
  const [isValid, setIsValid] = useState(true);
  // A new key remounts the editor, which holds its own text.
  const [editorKey, setEditorKey] = useState(0);
  return {
    value,
    isValid,
    editorKey,
    onChange: (next: unknown, valid: boolean) => {
      setValue(next);
      setIsValid(valid);
    },
    reset: () => {
      setValue({});
      setIsValid(true);
      setEditorKey((key) => key + 1);
    },
  };
}
