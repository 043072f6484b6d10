import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { looksLikeMarkdown, Markdown } from "./Markdown";
import { OutputView, outputProse } from "./OutputView";

describe("outputProse", () => {
  it("is the text of a string or of a lone string field, and null for anything else", () => {
    expect(outputProse("Hello")).toBe("Hello");
    expect(outputProse({ reply: "Hello" })).toBe("Hello");
    expect(outputProse({ reply: "Hello", ok: true })).toBeNull();
    expect(outputProse({ count: 3 })).toBeNull();
    expect(outputProse(["Hello"])).toBeNull();
    expect(outputProse(null)).toBeNull();
  });
});

describe("OutputView", () => {
  it("shows a lone string field as text, with its JSON one click away", async () => {
    const user = userEvent.setup();
    render(<OutputView value={{ reply: "Thanks for writing in." }} label="Output of draft" />);
    const output = screen.getByRole("group", { name: "Output of draft" });
    expect(within(output).getByText("Thanks for writing in.")).toBeInTheDocument();
    expect(output).not.toHaveTextContent("reply");
    expect(screen.getByRole("button", { name: "Text" })).toHaveAttribute("aria-pressed", "true");

    await user.click(screen.getByRole("button", { name: "JSON" }));
    expect(screen.getByRole("group", { name: "Output of draft (JSON)" })).toHaveTextContent(
      'reply: "Thanks for writing in."',
    );
    expect(screen.getByRole("button", { name: "JSON" })).toHaveAttribute("aria-pressed", "true");

    await user.click(screen.getByRole("button", { name: "Text" }));
    expect(screen.queryByRole("group", { name: "Output of draft (JSON)" })).not.toBeInTheDocument();
  });

  it("renders Markdown as Markdown", () => {
    render(
      <OutputView value={"## Next steps\n\n- Refund **today**\n- Email `receipt`"} label="Out" />,
    );
    expect(screen.getByRole("heading", { name: "Next steps" })).toBeInTheDocument();
    expect(screen.getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "Refund today",
      "Email receipt",
    ]);
    expect(screen.getByText("today").tagName).toBe("STRONG");
    expect(screen.getByText("receipt").tagName).toBe("CODE");
  });

  it("shows any other value as its JSON tree", () => {
    render(<OutputView value={{ reply: "Hi", ok: true }} label="Output of review" />);
    expect(screen.getByRole("group", { name: "Output of review" })).toHaveTextContent("ok: true");
    expect(screen.queryByRole("button", { name: "Text" })).not.toBeInTheDocument();
  });
});

describe("Markdown", () => {
  it("tells Markdown from plain prose", () => {
    expect(looksLikeMarkdown("# Title")).toBe(true);
    expect(looksLikeMarkdown("Steps:\n1. Open the app")).toBe(true);
    expect(looksLikeMarkdown("This is *really* it")).toBe(true);
    expect(looksLikeMarkdown("Run `make dev`")).toBe(true);
    expect(looksLikeMarkdown("Thanks for writing in, we are on it.")).toBe(false);
    expect(looksLikeMarkdown("2 * 3 = 6, and 4*5 too")).toBe(false);
  });

  it("renders blocks and inline marks as elements", () => {
    const { container } = render(
      <Markdown
        text={[
          "# Refund",
          "Dear *customer*,",
          "we are on it.",
          "",
          "1. Check the _invoice_",
          "2. Pay back",
          "",
          "> Quoted",
          "",
          "```",
          "code **stays**",
          "```",
          "See [the policy](https://example.com/policy).",
        ].join("\n")}
      />,
    );
    expect(screen.getByRole("heading", { level: 3, name: "Refund" })).toBeInTheDocument();
    expect(screen.getByText("customer").tagName).toBe("EM");
    expect(container.querySelector("p br")).not.toBeNull();
    expect(container.querySelector("ol")).toHaveTextContent("Check the invoicePay back");
    expect(screen.getByText("invoice").tagName).toBe("EM");
    expect(container.querySelector("blockquote")).toHaveTextContent("Quoted");
    expect(container.querySelector("pre code")).toHaveTextContent("code **stays**");
    expect(screen.getByRole("link", { name: "the policy" })).toHaveAttribute(
      "href",
      "https://example.com/policy",
    );
  });

  it("shows HTML and script links as text, never as markup", () => {
    const { container } = render(
      <Markdown
        text={'# <img src=x onerror="alert(1)">\n\n- [click](javascript:alert(1)) <b>bold</b>'}
      />,
    );
    expect(container.querySelector("img, b, script")).toBeNull();
    expect(screen.queryByRole("link")).not.toBeInTheDocument();
    expect(screen.getByRole("heading")).toHaveTextContent('<img src=x onerror="alert(1)">');
    expect(screen.getByRole("listitem")).toHaveTextContent(
      "[click](javascript:alert(1)) <b>bold</b>",
    );
  });
});
