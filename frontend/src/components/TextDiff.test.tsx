import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { TextDiff } from "./TextDiff";

describe("TextDiff", () => {
  it("marks removed and added lines with del/ins and a text gutter", () => {
    const { container } = render(
      <TextDiff before={"Hello\nYou are kind.\nBye"} after={"Hello\nYou are brief.\nBye"} />,
    );

    const rows = screen.getAllByRole("row");
    expect(rows.map((row) => row.textContent)).toEqual([
      " Hello",
      "−You are kind.",
      "+You are brief.",
      " Bye",
    ]);
    expect(container.querySelector("del")).toHaveTextContent("You are kind.");
    expect(container.querySelector("ins")).toHaveTextContent("You are brief.");
    expect(rows[1]).toHaveClass("removed");
    expect(rows[2]).toHaveClass("added");
  });

  it("in word mode marks only the changed words", () => {
    const { container } = render(
      <TextDiff before="You are a friendly agent." after="You are a brief agent." mode="words" />,
    );

    expect(container.querySelectorAll("del")).toHaveLength(1);
    expect(container.querySelector("del")).toHaveTextContent("friendly");
    expect(container.querySelectorAll("ins")).toHaveLength(1);
    expect(container.querySelector("ins")).toHaveTextContent("brief");
    expect(container.textContent).toBe("You are a friendlybrief agent.");
  });

  it("says so when the texts are equal", () => {
    render(<TextDiff before="same" after="same" />);
    expect(screen.getByText("No differences.")).toBeInTheDocument();
  });
});
