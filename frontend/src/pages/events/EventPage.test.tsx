import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiErrorResponse, fakeApi, LocationProbe, renderAs } from "../../test-utils";
import { ticketEventDetail } from "./fixtures";
import { EventPage } from "./EventPage";

function renderEventPage() {
  return renderAs(
    <Routes>
      <Route path="/events" element={<LocationProbe />} />
      <Route path="/events/:eventId" element={<EventPage />} />
      <Route path="/runs/:runId" element={<LocationProbe />} />
    </Routes>,
    { route: "/events/e-1" },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("EventPage", () => {
  it("shows the payload and the runs, and no Replay for a viewer", async () => {
    fakeApi("viewer", { "GET /events/e-1": ticketEventDetail });
    renderEventPage();
    const payload = await screen.findByRole("group", { name: "Payload" });
    expect(payload).toHaveTextContent('ticket: "My order never arrived"');
    expect(screen.getByRole("link", { name: "r-1" })).toHaveAttribute("href", "/runs/r-1");
    expect(screen.getByRole("link", { name: "All runs of this event" })).toHaveAttribute(
      "href",
      "/runs?event=e-1",
    );
    expect(screen.queryByRole("button", { name: "Replay" })).not.toBeInTheDocument();
  });

  it("names the event by its key and shows its id, metadata and each run's workflow and status", async () => {
    fakeApi("viewer", { "GET /events/e-1": ticketEventDetail });
    renderEventPage();
    expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent(
      "Event ticket:created",
    );
    expect(screen.getByText("e-1")).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "Metadata" })).toHaveTextContent('region: "eu"');
    const run = screen.getByRole("link", { name: "r-1" }).closest("tr") as HTMLElement;
    expect(run).toHaveTextContent("SupportReply");
    expect(within(run).getByText("Succeeded")).toBeInTheDocument();
  });

  it("says when no workflow listened for the key", async () => {
    fakeApi("viewer", { "GET /events/e-1": { ...ticketEventDetail, runs: [] } });
    renderEventPage();
    expect(
      await screen.findByText("No workflow listened for this key when it arrived."),
    ).toBeInTheDocument();
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });

  it("goes back to the events list", async () => {
    const user = userEvent.setup();
    fakeApi("viewer", { "GET /events/e-1": ticketEventDetail });
    renderEventPage();
    await screen.findByRole("group", { name: "Payload" });
    await user.click(screen.getByRole("link", { name: "← Events" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/events");
  });

  it("replays for an editor and links the runs it started", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /events/e-1": ticketEventDetail,
      "POST /events/e-1/replay": () =>
        Response.json([{ id: "r-2", workflow: "SupportReply", status: "PENDING" }], {
          status: 201,
        }),
    });
    renderEventPage();

    fireEvent.click(await screen.findByRole("button", { name: "Replay" }));
    const result = await screen.findByRole("status");
    expect(result).toHaveTextContent("Replayed: started SupportReply.");
    await user.click(within(result).getByRole("link", { name: "SupportReply" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/runs/r-2");
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/events/e-1/replay",
    ]);
  });

  it("says so when a replay starts no run, and fetches the event again", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /events/e-1": ticketEventDetail,
      "POST /events/e-1/replay": () => Response.json([], { status: 201 }),
    });
    renderEventPage();
    await user.click(await screen.findByRole("button", { name: "Replay" }));
    expect(await screen.findByRole("status")).toHaveTextContent(
      "Replayed: no workflow listens for this key now, so no run started.",
    );
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "GET /events/e-1",
      "POST /events/e-1/replay",
      "GET /events/e-1",
    ]);
  });

  it("shows the server's refusal of a replay", async () => {
    const user = userEvent.setup();
    fakeApi("editor", {
      "GET /events/e-1": ticketEventDetail,
      "POST /events/e-1/replay": () =>
        apiErrorResponse(409, "conflict", "This event is being replayed already."),
    });
    renderEventPage();
    await user.click(await screen.findByRole("button", { name: "Replay" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "This event is being replayed already.",
    );
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });

  it("shows the API's error for an unknown event, with a retry", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", {
      "GET /events/e-1": () => apiErrorResponse(404, "not_found", "No event e-1."),
    });
    renderEventPage();
    expect(await screen.findByRole("alert")).toHaveTextContent("not_found No event e-1.");
    await user.click(screen.getByRole("button", { name: "Retry" }));
    await vi.waitFor(() => expect(calls).toHaveLength(2));
  });
});
