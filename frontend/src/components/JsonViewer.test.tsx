import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { JsonViewer } from "./JsonViewer";

const value = {
  ticket: { id: 7, subject: "Refund please", tags: ["billing", "urgent"] },
  resolved: false,
  assignee: null,
};

describe("JsonViewer", () => {
  it("renders nested keys and scalars of every type, expanded to the given depth", () => {
    render(<JsonViewer value={value} expandDepth={3} label="Run input" />);
    const tree = screen.getByRole("group", { name: "Run input" });

    expect(tree).toHaveTextContent('subject: "Refund please"');
    expect(tree).toHaveTextContent("id: 7");
    expect(tree).toHaveTextContent('0: "billing"');
    expect(tree).toHaveTextContent("resolved: false");
    expect(tree).toHaveTextContent("assignee: null");
    expect(screen.getByRole("button", { name: "Collapse tags" })).toHaveAttribute(
      "aria-expanded",
      "true",
    );
  });

  it("starts folded below expandDepth and shows a summary of the folded container", () => {
    render(<JsonViewer value={value} expandDepth={1} />);

    const ticketToggle = screen.getByRole("button", { name: "Expand ticket" });
    expect(ticketToggle).toHaveAttribute("aria-expanded", "false");
    expect(screen.getByText("3 keys")).toBeInTheDocument();
    expect(screen.queryByText('"Refund please"')).not.toBeInTheDocument();
  });

  it("unfolds and folds a container with its button", async () => {
    const user = userEvent.setup();
    render(<JsonViewer value={value} expandDepth={1} />);

    await user.click(screen.getByRole("button", { name: "Expand ticket" }));
    expect(screen.getByText('"Refund please"')).toBeInTheDocument();
    const tagsToggle = screen.getByRole("button", { name: "Expand tags" });
    expect(screen.getByText("2 items")).toBeInTheDocument();

    await user.click(tagsToggle);
    expect(screen.getByText('"urgent"')).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Collapse ticket" }));
    expect(screen.queryByText('"Refund please"')).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Expand ticket" })).toHaveAttribute(
      "aria-expanded",
      "false",
    );
  });

  it("folds the root itself when expandDepth is 0 and opens it from the keyboard", async () => {
    const user = userEvent.setup();
    render(<JsonViewer value={[1, 2]} expandDepth={0} />);

    const rootToggle = screen.getByRole("button", { name: "Expand root" });
    rootToggle.focus();
    await user.keyboard("{Enter}");

    const tree = screen.getByRole("group", { name: "JSON" });
    expect(within(tree).getByText("0:")).toBeInTheDocument();
    expect(within(tree).getByText("2")).toBeInTheDocument();
  });

  it("shows empty containers and top-level scalars without a toggle", () => {
    render(<JsonViewer value={{ list: [], map: {}, note: "x" }} />);
    expect(screen.getByText("[]")).toBeInTheDocument();
    expect(screen.getByText("{}")).toBeInTheDocument();
    expect(screen.getAllByRole("button", { name: /Expand|Collapse/ })).toHaveLength(1);
  });

  it("copies the value as indented JSON", async () => {
    const user = userEvent.setup();
    render(<JsonViewer value={{ a: 1 }} label="Output" />);

    await user.click(screen.getByRole("button", { name: "Copy Output" }));

    expect(await navigator.clipboard.readText()).toBe('{\n  "a": 1\n}');
    expect(screen.getByRole("button", { name: "Copy Output" })).toHaveTextContent("Copied");
  });
});
