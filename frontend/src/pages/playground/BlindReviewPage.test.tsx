import { fireEvent, screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, renderAs } from "../../test-utils";
import { BlindReviewPage } from "./BlindReviewPage";
import { cell, comparison } from "./fixtures";

const pairPath = "GET /playground/compare/cmp-1/blind-pair?a=0&b=1";
const shown = {
  pair: "signed-pair",
  remaining: 2,
  input: { ticket: "Refund please" },
  left: { reply: "Briefly: on it." },
  right: { reply: "Thanks for reaching out." },
};
const summary = (column: number, wins: number, losses: number, pairwise: number | null) => ({
  column,
  reviews: 0,
  thumbs_up: 0,
  thumbs_down: 0,
  mean_score: null,
  votes: wins + losses,
  wins,
  losses,
  ties: 0,
  pairwise_score: pairwise,
});

function renderBlindReview() {
  return renderAs(
    <Routes>
      <Route path="/playground/compare/:comparisonId/blind" element={<BlindReviewPage />} />
    </Routes>,
    { route: "/playground/compare/cmp-1/blind" },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("BlindReviewPage", () => {
  it("shows two unlabelled answers, sends the vote, then the next pair and the totals", async () => {
    let voted = false;
    const calls = fakeApi("editor", {
      "GET /playground/compare/cmp-1": () => ({
        ...comparison([cell(0, 0), cell(0, 1)]),
        review_summary: voted ? [summary(0, 0, 1, 0), summary(1, 1, 0, 1)] : [],
      }),
      [pairPath]: () => (voted ? { pair: null, remaining: 0 } : shown),
      "POST /playground/compare/cmp-1/votes": () => {
        voted = true;
        return { id: "v1", row: 0, column_a: 0, column_b: 1, winner: 1, reviewer: "pat" };
      },
    });
    renderBlindReview();

    expect(await screen.findByText("2 inputs left to judge")).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "Left answer" })).toHaveTextContent("Briefly: on it.");
    expect(screen.getByRole("group", { name: "Right answer" })).toHaveTextContent(
      "Thanks for reaching out.",
    );
    fireEvent.click(screen.getByRole("button", { name: "Left is better" }));

    expect(
      await screen.findByText("Every input has your vote for these two columns."),
    ).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      pair: "signed-pair",
      choice: "left",
    });
    const totals = await screen.findByRole("table", { name: "Review totals" });
    const brief = within(totals).getByRole("row", { name: /brief/ });
    expect(
      within(brief)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    ).toEqual(["0", "0", "—", "1", "0", "0", "1.00"]);
  });

  it("lets a viewer see the pair but not vote", async () => {
    fakeApi("viewer", {
      "GET /playground/compare/cmp-1": comparison([cell(0, 0), cell(0, 1)]),
      [pairPath]: shown,
    });
    renderBlindReview();

    expect(await screen.findByRole("button", { name: "Left is better" })).toBeDisabled();
    expect(screen.getByText("Voting needs the editor role.")).toBeInTheDocument();
  });

  it("asks for two different columns", async () => {
    fakeApi("editor", {
      "GET /playground/compare/cmp-1": comparison([cell(0, 0), cell(0, 1)]),
      [pairPath]: shown,
    });
    renderBlindReview();

    fireEvent.change(await screen.findByLabelText("Second column"), { target: { value: "0" } });

    expect(screen.getByRole("alert")).toHaveTextContent("Pick two different columns.");
  });
});
