// Adds the DOM matchers (toBeInTheDocument, toHaveValue, ...) to every test file,
// and unmounts what each test rendered so tests never see each other's DOM.
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());

// jsdom has no layout engine; @xyflow/react (the DAG) needs ResizeObserver to mount.
class StillResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= StillResizeObserver;
