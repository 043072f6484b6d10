import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, LocationProbe, page, renderAs } from "../../test-utils";
import { ticketEvent, ticketEventDetail } from "./fixtures";
import { EventsPage } from "./EventsPage";
import { eventsPath, filtersFromSearch } from "./eventFilters";

function renderAt(route: string) {
  return renderAs(
    <Routes>
      <Route
        path="/events"
        element={
          <>
            <EventsPage />
            <LocationProbe />
          </>
        }
      />
      <Route path="/runs/:runId" element={<LocationProbe />} />
    </Routes>,
    { route },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("event filters", () => {
  it("read the URL and become the API's query", () => {
    const filters = filtersFromSearch(
      new URLSearchParams("key=ticket:*&metadata=region:eu&metadata=plan:pro&offset=25"),
    );
    expect(eventsPath(filters)).toBe(
      "/events?key=ticket%3A*&metadata=region%3Aeu&metadata=plan%3Apro&limit=25&offset=25",
    );
  });
});

describe("EventsPage", () => {
  it("keeps the filters in the URL and asks the API for them", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", { "GET /events": page([ticketEvent]) });
    renderAt("/events");
    expect(await screen.findByText("ticket:created")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Key"), "ticket:*");
    await user.type(screen.getByLabelText("Metadata"), "region:eu, plan:pro");
    await user.click(screen.getByRole("button", { name: "Apply filters" }));

    expect(screen.getByTestId("location")).toHaveTextContent(
      "/events?key=ticket%3A*&metadata=region%3Aeu&metadata=plan%3Apro",
    );
    expect(calls.at(-1)?.path).toBe(
      "/events?key=ticket%3A*&metadata=region%3Aeu&metadata=plan%3Apro&limit=25&offset=0",
    );
    // Reloading the address restores the form.
    expect(screen.getByLabelText("Key")).toHaveValue("ticket:*");
  });

  it("previews the payload and shows the runs an event started on demand", async () => {
    const user = userEvent.setup();
    fakeApi("viewer", { "GET /events": page([ticketEvent]), "GET /events/e-1": ticketEventDetail });
    renderAt("/events");

    const row = (await screen.findByText("ticket:created")).closest("tr") as HTMLElement;
    expect(row).toHaveTextContent('{"ticket":"My order never arrived","priority":2}');
    await user.click(
      within(row).getByRole("button", { name: "Show runs of ticket:created event" }),
    );
    await user.click(await within(row).findByRole("link", { name: "SupportReply" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/runs/r-1");
  });

  it("says when nothing matches the filters", async () => {
    fakeApi("viewer", { "GET /events": page([]) });
    renderAt("/events?key=nope");
    expect(await screen.findByText("No events match these filters.")).toBeInTheDocument();
  });
});
