import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Pagination } from "./Pagination";

describe("Pagination", () => {
  it("says the count is a floor when the API capped it, and pages on past it", async () => {
    const onChange = vi.fn();
    render(
      <Pagination count={10000} countCapped hasNext limit={50} offset={9950} onChange={onChange} />,
    );
    expect(screen.getByText("9951–10000 of 10,000+")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(onChange).toHaveBeenCalledWith(10000);
  });

  it("stops at the page without a next link", () => {
    render(
      <Pagination
        count={10000}
        countCapped
        hasNext={false}
        limit={50}
        offset={12000}
        onChange={vi.fn()}
      />,
    );
    expect(screen.getByRole("button", { name: "Next" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Previous" })).toBeEnabled();
  });

  it("counts exactly below the cap", () => {
    render(<Pagination count={120} limit={50} offset={100} onChange={vi.fn()} />);
    expect(screen.getByText("101–120 of 120")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Next" })).toBeDisabled();
  });
});
