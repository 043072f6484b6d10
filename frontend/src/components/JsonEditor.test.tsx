import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { JsonEditor, parseJson } from "./JsonEditor";

function renderEditor(initialValue: unknown) {
  const onChange = vi.fn();
  render(<JsonEditor initialValue={initialValue} onChange={onChange} label="Input" />);
  const textarea = screen.getByRole("textbox", { name: "Input" });
  return { onChange, textarea };
}

describe("JsonEditor", () => {
  it("starts with the initial value as indented JSON and no error", () => {
    const { textarea } = renderEditor({ ticket: "hi" });
    expect(textarea).toHaveValue('{\n  "ticket": "hi"\n}');
    expect(textarea).toHaveAttribute("aria-invalid", "false");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("reports the parsed value and validity on every change", () => {
    const { onChange, textarea } = renderEditor({});
    fireEvent.change(textarea, { target: { value: '{"count": 3}' } });
    expect(onChange).toHaveBeenLastCalledWith({ count: 3 }, true);
  });

  it("shows the parse error with line and column and reports invalid", () => {
    const { onChange, textarea } = renderEditor({});
    fireEvent.change(textarea, { target: { value: '{\n  "a": 1,\n  b}' } });

    expect(onChange).toHaveBeenLastCalledWith(undefined, false);
    expect(textarea).toHaveAttribute("aria-invalid", "true");
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent(/^Invalid JSON:/);
    expect(alert).toHaveTextContent("line 3 column 3");
    expect(textarea).toHaveAccessibleDescription(alert.textContent ?? "");
    expect(screen.getByRole("button", { name: "Format" })).toBeDisabled();
  });

  it("clears the error once the text is fixed", () => {
    const { textarea } = renderEditor({});
    fireEvent.change(textarea, { target: { value: "{" } });
    expect(screen.getByRole("alert")).toBeInTheDocument();
    fireEvent.change(textarea, { target: { value: "{}" } });
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("formats valid JSON with two-space indentation", async () => {
    const user = userEvent.setup();
    const { onChange, textarea } = renderEditor({});
    fireEvent.change(textarea, { target: { value: '{"a":[1,2],"b":{"c":true}}' } });

    await user.click(screen.getByRole("button", { name: "Format" }));

    expect(textarea).toHaveValue(
      '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {\n    "c": true\n  }\n}',
    );
    expect(onChange).toHaveBeenLastCalledWith({ a: [1, 2], b: { c: true } }, true);
  });
});

describe("parseJson", () => {
  it("accepts any JSON value, including scalars", () => {
    expect(parseJson("42")).toEqual({ value: 42, error: null });
    expect(parseJson('"text"')).toEqual({ value: "text", error: null });
  });

  it("turns the engine's character position into line and column", () => {
    expect(parseJson('{"a" 1}').error).toContain("(line 1 column 6)");
  });

  it("keeps the engine's message when it gives no position", () => {
    expect(parseJson("[1,,2]").error).toMatch(/Unexpected token|line 1 column 4/);
  });
});
