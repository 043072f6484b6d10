import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReceivedInvitation } from "../api/types";
import { fakeApi, page, renderAs } from "../test-utils";
import { MyInvitations } from "./MyInvitations";

const globex = { id: "00000000-0000-4000-8000-000000000002", slug: "globex", name: "Globex" };
const invitation: ReceivedInvitation = {
  id: "i-1",
  tenant: globex,
  role: "editor",
  invited_by: "gus",
  created_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-01-08T00:00:00Z",
};

afterEach(() => vi.unstubAllGlobals());

describe("invitations for the signed-in person", () => {
  it("shows nothing without a pending invitation", async () => {
    const calls = fakeApi("viewer", { "GET /session/invitations": page([]) });
    renderAs(<MyInvitations />);

    await waitFor(() =>
      expect(calls.map((call) => call.path)).toEqual(["/session/invitations?limit=50"]),
    );
    expect(screen.queryByRole("heading", { name: "Invitations for you" })).not.toBeInTheDocument();
  });

  it("accepts an invitation, which then leaves the list", async () => {
    const user = userEvent.setup();
    let pending = [invitation];
    const calls = fakeApi("viewer", {
      "GET /session/invitations": () => page(pending),
      "POST /session/invitations/i-1/accept": () => {
        pending = [];
        return { tenant: globex, role: "editor" };
      },
    });
    renderAs(<MyInvitations />);

    expect(await screen.findByText("Globex")).toBeInTheDocument();
    expect(screen.getByText(/from gus/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Accept the invitation to Globex" }));

    await waitFor(() =>
      expect(
        screen.queryByRole("heading", { name: "Invitations for you" }),
      ).not.toBeInTheDocument(),
    );
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/session/invitations/i-1/accept",
    ]);
  });

  it("declines an invitation", async () => {
    const user = userEvent.setup();
    let pending = [invitation];
    const calls = fakeApi("viewer", {
      "GET /session/invitations": () => page(pending),
      "POST /session/invitations/i-1/decline": () => {
        pending = [];
        return null;
      },
    });
    renderAs(<MyInvitations />);

    await user.click(
      await screen.findByRole("button", { name: "Decline the invitation to Globex" }),
    );

    await waitFor(() => expect(screen.queryByText("Globex")).not.toBeInTheDocument());
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/session/invitations/i-1/decline",
    ]);
  });
});
