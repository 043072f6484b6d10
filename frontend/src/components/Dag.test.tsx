import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Dag, layerSteps } from "./Dag";

describe("layerSteps", () => {
  it("puts each step one column right of its deepest parent", () => {
    const layers = layerSteps([
      { id: "review", label: "review", parents: ["draft", "fetch"] },
      { id: "fetch", label: "fetch", parents: [] },
      { id: "draft", label: "draft", parents: ["fetch"] },
      { id: "notify", label: "notify", parents: [] },
    ]);
    expect(Object.fromEntries(layers)).toEqual({ fetch: 0, draft: 1, review: 2, notify: 0 });
  });

  it("ignores unknown parents and terminates on a cycle", () => {
    const layers = layerSteps([
      { id: "a", label: "a", parents: ["b", "missing"] },
      { id: "b", label: "b", parents: ["a"] },
    ]);
    expect(layers.size).toBe(2);
  });
});

describe("Dag", () => {
  it("draws one button per step, named by label and status, that selects the step", async () => {
    const onSelect = vi.fn();
    render(
      <Dag
        steps={[
          { id: "s1", label: "draft", parents: [], status: "SUCCEEDED" },
          { id: "s2", label: "review", parents: ["s1"], status: "TIMED_OUT" },
        ]}
        selectedId="s2"
        onSelect={onSelect}
      />,
    );

    const review = await screen.findByRole("button", { name: /review/ });
    expect(review).toHaveTextContent("Timed out");
    expect(review).toHaveClass("tone-danger");
    expect(review).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByRole("button", { name: /draft/ })).toHaveClass("tone-success");

    await userEvent.setup().click(review);
    expect(onSelect).toHaveBeenCalledWith("s2");
  });
});
