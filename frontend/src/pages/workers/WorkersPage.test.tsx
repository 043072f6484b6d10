import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Worker } from "../../api/types";
import { apiErrorResponse, fakeApi, page, renderAs } from "../../test-utils";
import { WorkersPage } from "./WorkersPage";

const busy: Worker = {
  id: "w-1",
  name: "support-worker",
  status: "ACTIVE",
  actions: ["SupportReply:draft", "SupportReply:review"],
  labels: { region: "eu" },
  slots: 4,
  used_slots: 3,
  free_slots: 1,
  last_heartbeat_at: new Date().toISOString(),
};

afterEach(() => vi.unstubAllGlobals());

describe("WorkersPage", () => {
  it("shows status, slots used and free, actions and labels", async () => {
    fakeApi("viewer", { "GET /workers": page([busy]) });
    renderAs(<WorkersPage />);

    const row = (await screen.findByText("support-worker")).closest("tr") as HTMLElement;
    expect(within(row).getByText("Active")).toHaveClass("tone-success");
    expect(row).toHaveTextContent("3 used · 1 free");
    expect(within(row).getByRole("meter", { name: "Slots in use" })).toHaveAttribute(
      "aria-valuetext",
      "3 of 4 slots in use",
    );
    expect(within(row).getByText("SupportReply:review")).toBeInTheDocument();
    expect(row).toHaveTextContent("region=eu");
  });

  it("polls, so a worker that disconnects shows it", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let status: Worker["status"] = "ACTIVE";
    fakeApi("viewer", { "GET /workers": () => page([{ ...busy, status }]) });
    renderAs(<WorkersPage />);
    expect(await screen.findByText("Active")).toBeInTheDocument();

    status = "DISCONNECTED";
    await vi.advanceTimersByTimeAsync(3_100);
    expect(await screen.findByText("Disconnected")).toBeInTheDocument();
    vi.useRealTimers();
  });

  it("says when no worker is connected, and shows errors", async () => {
    fakeApi("viewer", { "GET /workers": page([]) });
    const { unmount } = renderAs(<WorkersPage />);
    expect(await screen.findByText(/No workers have connected yet/)).toBeInTheDocument();
    unmount();

    fakeApi("viewer", { "GET /workers": () => apiErrorResponse(500, "server_error", "Boom.") });
    renderAs(<WorkersPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Boom.");
  });
});
