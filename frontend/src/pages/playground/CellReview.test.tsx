import { fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Review } from "../../api/types";
import { fakeApi, renderAs } from "../../test-utils";
import { CellReview } from "./CellReview";

const review = (reviewer: string, fields: Partial<Review> = {}): Review => ({
  id: `r-${reviewer}`,
  run_id: "run-1",
  thumbs: "",
  score: null,
  comment: "",
  reviewer,
  updated_at: "2026-01-01T00:00:00Z",
  ...fields,
});

afterEach(() => vi.unstubAllGlobals());

describe("CellReview", () => {
  it("shows others' reviews and saves the caller's thumbs, score and comment", async () => {
    const calls = fakeApi("editor", {
      "POST /playground/compare/cmp-1/reviews": review("ada", { thumbs: "up", score: 0.8 }),
    });
    renderAs(
      <CellReview
        comparisonId="cmp-1"
        runId="run-1"
        reviews={[review("eve", { thumbs: "down", comment: "Too curt" })]}
        reviewer={{ name: "ada", canReview: true }}
      />,
    );

    expect(await screen.findByText(/eve: 👎/)).toHaveTextContent("eve: 👎 “Too curt”");
    fireEvent.click(screen.getByRole("button", { name: "👍 Good" }));
    fireEvent.change(screen.getByLabelText("Score (0-1)"), { target: { value: "0.8" } });
    fireEvent.click(screen.getByRole("button", { name: "Save review" }));

    expect(await screen.findByRole("status")).toHaveTextContent("Saved.");
    expect(calls.map((call) => call.body)).toEqual([
      { run_id: "run-1", thumbs: "up", score: 0.8, comment: "" },
    ]);
  });

  it("starts from the caller's own review and refuses a score above 1", async () => {
    fakeApi("editor", {});
    renderAs(
      <CellReview
        comparisonId="cmp-1"
        runId="run-1"
        reviews={[review("ada", { thumbs: "down", score: 0.2 })]}
        reviewer={{ name: "ada", canReview: true }}
      />,
    );

    expect(await screen.findByRole("button", { name: "👎 Bad" })).toHaveAttribute(
      "aria-pressed",
      "true",
    );
    fireEvent.change(screen.getByLabelText("Score (0-1)"), { target: { value: "1.5" } });
    expect(screen.getByRole("button", { name: "Update review" })).toBeDisabled();
  });

  it("gives a viewer the reviews to read and no form", async () => {
    fakeApi("viewer", {});
    renderAs(
      <CellReview
        comparisonId="cmp-1"
        runId="run-1"
        reviews={[review("eve", { score: 0.5 })]}
        reviewer={{ name: "vic", canReview: false }}
      />,
    );

    expect(await screen.findByText("eve: 0.50")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Your review" })).toBeNull();
  });
});
