import { fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { Variable } from "../../api/types";
import { variable } from "./fixtures";
import { VariableEditor } from "./VariableEditor";

/** Holds the edited value the way the page does: undefined until edited. */
function Harness({
  v,
  readOnly = false,
  onChange = () => {},
}: {
  v: Variable;
  readOnly?: boolean;
  onChange?: (value: unknown) => void;
}) {
  const [value, setValue] = useState<unknown>(undefined);
  return (
    <VariableEditor
      variable={v}
      value={value}
      readOnly={readOnly}
      onChange={(next) => {
        onChange(next);
        setValue(next);
      }}
      onReset={() => setValue(undefined)}
    />
  );
}

const prompt = "You are a friendly support agent. Answer in two sentences.";

function defaultPanel() {
  return screen.getByText("Code default").parentElement as HTMLElement;
}

describe("VariableEditor for a string (prompt)", () => {
  it("shows a textarea named after the variable, the code default beside it, and no diff", () => {
    render(<Harness v={variable("system_prompt", "string", prompt)} />);
    const textarea = screen.getByRole("textbox", { name: "system_prompt" });
    expect(textarea.tagName).toBe("TEXTAREA");
    expect(textarea).toHaveValue(prompt);
    expect(within(defaultPanel()).getByText(prompt)).toBeInTheDocument();
    expect(textarea).toHaveAccessibleDescription(expect.stringContaining(prompt));
    expect(screen.getByText("examples/support_reply.py:61 in draft()")).toBeInTheDocument();
    expect(
      screen.queryByRole("group", { name: "Changes to system_prompt" }),
    ).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Reset system_prompt to default" })).toBeDisabled();
  });

  it("shows a word diff against the default once edited, and resets to the default", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Harness v={variable("system_prompt", "string", prompt)} onChange={onChange} />);
    const textarea = screen.getByRole("textbox", { name: "system_prompt" });
    fireEvent.change(textarea, {
      target: { value: "You are a brief support agent. Answer in one sentence." },
    });
    expect(onChange).toHaveBeenLastCalledWith(
      "You are a brief support agent. Answer in one sentence.",
    );

    const diff = screen.getByRole("group", { name: "Changes to system_prompt" });
    const removed = Array.from(diff.querySelectorAll("del")).map((node) => node.textContent);
    const added = Array.from(diff.querySelectorAll("ins")).map((node) => node.textContent);
    expect(removed.join(" ")).toContain("friendly");
    expect(removed.join(" ")).toContain("two");
    expect(added.join(" ")).toContain("brief");
    expect(added.join(" ")).toContain("one");
    expect(screen.getByText("Edited")).toBeInTheDocument();
    // The default stays visible beside the edit.
    expect(within(defaultPanel()).getByText(prompt)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Reset system_prompt to default" }));
    expect(textarea).toHaveValue(prompt);
    expect(
      screen.queryByRole("group", { name: "Changes to system_prompt" }),
    ).not.toBeInTheDocument();
  });

  it("is read-only without a reset button for viewers", () => {
    render(<Harness v={variable("system_prompt", "string", prompt)} readOnly />);
    expect(screen.getByRole("textbox", { name: "system_prompt" })).toHaveAttribute("readonly");
    expect(screen.queryByRole("button", { name: /Reset/ })).not.toBeInTheDocument();
  });
});

describe("VariableEditor for numbers", () => {
  it("edits a number, diffs it against the default and resets", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Harness v={variable("temperature", "number", 0.3)} onChange={onChange} />);
    const input = screen.getByRole("spinbutton", { name: "temperature" });
    expect(input).toHaveValue(0.3);
    expect(within(defaultPanel()).getByText("0.3")).toBeInTheDocument();

    fireEvent.change(input, { target: { value: "0.7" } });
    expect(onChange).toHaveBeenLastCalledWith(0.7);
    const diff = screen.getByRole("group", { name: "Changes to temperature" });
    expect(diff.querySelector("del")).toHaveTextContent("0.3");
    expect(diff.querySelector("ins")).toHaveTextContent("0.7");

    await user.click(screen.getByRole("button", { name: "Reset temperature to default" }));
    expect(screen.getByRole("spinbutton", { name: "temperature" })).toHaveValue(0.3);
    expect(screen.queryByRole("group", { name: "Changes to temperature" })).not.toBeInTheDocument();
  });

  it("refuses a fraction for an integer and reports nothing until it is whole", () => {
    const onChange = vi.fn();
    render(<Harness v={variable("max_words", "integer", 40)} onChange={onChange} />);
    const input = screen.getByRole("spinbutton", { name: "max_words" });
    fireEvent.change(input, { target: { value: "2.5" } });
    expect(screen.getByRole("alert")).toHaveTextContent("Enter a whole number.");
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.change(input, { target: { value: "25" } });
    expect(onChange).toHaveBeenLastCalledWith(25);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});

describe("VariableEditor for a boolean", () => {
  it("is a checkbox whose change shows the diff", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Harness v={variable("shout", "boolean", false)} onChange={onChange} />);
    const checkbox = screen.getByRole("checkbox", { name: "shout" });
    expect(checkbox).not.toBeChecked();
    expect(within(defaultPanel()).getByText("false")).toBeInTheDocument();
    await user.click(checkbox);
    expect(onChange).toHaveBeenLastCalledWith(true);
    const diff = screen.getByRole("group", { name: "Changes to shout" });
    expect(diff.querySelector("del")).toHaveTextContent("false");
    expect(diff.querySelector("ins")).toHaveTextContent("true");
    await user.click(screen.getByRole("button", { name: "Reset shout to default" }));
    expect(screen.getByRole("checkbox", { name: "shout" })).not.toBeChecked();
  });
});

describe("VariableEditor for JSON values", () => {
  it("uses the JSON editor, reports only valid JSON, diffs by line and resets the text", async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Harness v={variable("stop_words", "array", ["hi", "bye"])} onChange={onChange} />);
    const textarea = screen.getByRole("textbox", { name: "stop_words" });
    expect(textarea).toHaveValue('[\n  "hi",\n  "bye"\n]');

    fireEvent.change(textarea, { target: { value: '["hi",' } });
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByRole("alert")).toHaveTextContent(/Invalid JSON/);

    fireEvent.change(textarea, { target: { value: '["hi", "ciao"]' } });
    expect(onChange).toHaveBeenLastCalledWith(["hi", "ciao"]);
    const diff = screen.getByRole("group", { name: "Changes to stop_words" });
    expect(within(diff).getByRole("table")).toBeInTheDocument();
    expect(diff.querySelector("ins")).toHaveTextContent('"ciao"');

    await user.click(screen.getByRole("button", { name: "Reset stop_words to default" }));
    expect(screen.getByRole("textbox", { name: "stop_words" })).toHaveValue(
      '[\n  "hi",\n  "bye"\n]',
    );
    expect(screen.queryByRole("group", { name: "Changes to stop_words" })).not.toBeInTheDocument();
  });
});
