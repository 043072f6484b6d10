import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { vi } from "vitest";
import type { GitHubConnection, Invitation, Member, Retention, Token } from "../../api/types";
import { apiErrorResponse, fakeApi, page, renderAs } from "../../test-utils";
import { SettingsPage } from "./SettingsPage";

const ada: Member = {
  id: 1,
  user: { id: 1, username: "ada", email: "ada@example.com" },
  role: "admin",
  created_at: "2026-01-01T00:00:00Z",
};
const vic: Member = {
  id: 2,
  user: { id: 2, username: "vic", email: "" },
  role: "viewer",
  created_at: "2026-01-02T00:00:00Z",
};
const connection: GitHubConnection = {
  repository: "acme/app",
  base_branch: "main",
  strip_prefix: "",
  add_prefix: "",
  has_token: true,
  token_source: "stored",
  has_webhook_secret: false,
  api_url: "https://api.github.com",
};
const ciToken: Token = {
  id: "t-1",
  name: "ci",
  role: "viewer",
  prefix: "hat_ab12",
  created_at: "2026-01-03T00:00:00Z",
  last_used_at: null,
  created_by: "ada",
};

const keptForever: Retention = {
  days: null,
  default_days: 0,
  effective_days: 0,
  is_archived: false,
};

afterEach(() => vi.unstubAllGlobals());

describe("API tokens", () => {
  it("shows a new token's secret once, with a warning, and not after it is dismissed", async () => {
    const user = userEvent.setup();
    let tokens: Token[] = [];
    const calls = fakeApi("admin", {
      "GET /invitations": page([]),
      "GET /tokens": () => page(tokens),
      "POST /tokens": () => {
        tokens = [ciToken];
        return Response.json({ ...ciToken, token: "hat_ab12.secret-value" }, { status: 201 });
      },
      "GET /playground/github-connection": connection,
      "GET /members": page([ada]),
    });
    renderAs(<SettingsPage />);

    expect(await screen.findByText("No API tokens yet.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "New token" }));
    await user.type(screen.getByLabelText("Token name"), "ci");
    await user.click(screen.getByRole("button", { name: "Create token" }));

    const notice = await screen.findByRole("status", { name: "New token" });
    expect(notice).toHaveTextContent("hat_ab12.secret-value");
    expect(notice).toHaveTextContent("you will not see it again");
    expect(within(notice).getByRole("button", { name: "Copy token" })).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "ci",
      role: "viewer",
    });
    // The list refreshed and holds the token, by name and prefix only.
    const row = (await screen.findByRole("cell", { name: "ci" })).closest("tr") as HTMLElement;
    expect(row).toHaveTextContent("hat_ab12…");
    expect(row).not.toHaveTextContent("secret-value");

    await user.click(within(notice).getByRole("button", { name: "Done" }));
    expect(screen.queryByText(/secret-value/)).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Token name")).not.toBeInTheDocument();
  });

  it("issues a token with the chosen role and lists each token's role", async () => {
    const user = userEvent.setup();
    const hostToken: Token = { ...ciToken, id: "t-2", name: "worker host", role: "worker" };
    let tokens: Token[] = [ciToken];
    const calls = fakeApi("admin", {
      "GET /tokens": () => page(tokens),
      "POST /tokens": () => {
        tokens = [hostToken, ciToken];
        return Response.json({ ...hostToken, token: "hat_cd34.secret" }, { status: 201 });
      },
      "GET /playground/github-connection": connection,
      "GET /members": page([ada]),
    });
    renderAs(<SettingsPage />);

    const ciRow = (await screen.findByRole("cell", { name: "ci" })).closest("tr") as HTMLElement;
    expect(within(ciRow).getByText("viewer")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "New token" }));
    await user.type(screen.getByLabelText("Token name"), "worker host");
    await user.selectOptions(screen.getByRole("combobox", { name: "Token role" }), "worker");
    await user.click(screen.getByRole("button", { name: "Create token" }));

    const notice = await screen.findByRole("status", { name: "New token" });
    expect(notice).toHaveTextContent("A worker token “worker host” created.");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "worker host",
      role: "worker",
    });
    const hostRow = (await screen.findByRole("cell", { name: "worker host" })).closest(
      "tr",
    ) as HTMLElement;
    expect(within(hostRow).getByText("worker")).toBeInTheDocument();
    const tokensTable = hostRow.closest("table") as HTMLElement;
    expect(within(tokensTable).getByRole("columnheader", { name: "Role" })).toBeInTheDocument();
  });

  it("revokes a token after the confirming click", async () => {
    const user = userEvent.setup();
    let tokens: Token[] = [ciToken];
    const calls = fakeApi("admin", {
      "GET /invitations": page([]),
      "GET /tokens": () => page(tokens),
      "DELETE /tokens/t-1": () => {
        tokens = [];
        return null;
      },
      "GET /playground/github-connection": connection,
      "GET /members": page([ada]),
    });
    renderAs(<SettingsPage />);

    await user.click(await screen.findByRole("button", { name: "Revoke" }));
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Click again to confirm" }));

    expect(await screen.findByText("No API tokens yet.")).toBeInTheDocument();
    expect(calls.filter((call) => call.method === "DELETE").map((call) => call.path)).toEqual([
      "/tokens/t-1",
    ]);
  });

  it("shows the server's refusal next to the token form", async () => {
    const user = userEvent.setup();
    fakeApi("admin", {
      "GET /invitations": page([]),
      "GET /tokens": page([]),
      "POST /tokens": () =>
        apiErrorResponse(400, "invalid_request", "name: This field may not be blank.", {
          name: ["This field may not be blank."],
        }),
      "GET /playground/github-connection": connection,
      "GET /members": page([ada]),
      "GET /retention": keptForever,
    });
    renderAs(<SettingsPage />);
    await user.click(await screen.findByRole("button", { name: "New token" }));
    await user.type(screen.getByLabelText("Token name"), " ");
    await user.click(screen.getByRole("button", { name: "Create token" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "name: This field may not be blank.",
    );
    expect(screen.queryByRole("status", { name: "New token" })).not.toBeInTheDocument();
  });
});

describe("roles", () => {
  it("gives a viewer the member list read-only and no admin sections", async () => {
    const calls = fakeApi("viewer", {
      "GET /members": page([ada, vic]),
      "GET /retention": keptForever,
    });
    renderAs(<SettingsPage />);

    expect(await screen.findByRole("cell", { name: "vic" })).toBeInTheDocument();
    expect(screen.getAllByText("Only admins can see and change this.")).toHaveLength(2);
    for (const name of [
      "New token",
      "Save connection",
      "Create user",
      "Invite",
      "Remove",
      "Revoke",
      "Save retention",
    ]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
    expect(screen.queryByRole("combobox")).not.toBeInTheDocument();
    expect(calls.map((call) => call.path)).toEqual(["/members?limit=500", "/retention"]);
  });
});

describe("members", () => {
  it("shows the server's 409 when the last admin is demoted and keeps the stored role", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("admin", {
      "GET /invitations": page([]),
      "GET /tokens": page([]),
      "GET /playground/github-connection": connection,
      "GET /members": page([ada, vic]),
      "PATCH /members/1": () =>
        apiErrorResponse(409, "conflict", "The tenant must keep at least one admin."),
    });
    renderAs(<SettingsPage />);

    const select = await screen.findByRole("combobox", { name: "Role of ada" });
    await user.selectOptions(select, "editor");

    expect(await screen.findByText("The tenant must keep at least one admin.")).toBeInTheDocument();
    expect(select).toHaveValue("admin");
    expect(select).toHaveAccessibleDescription("The tenant must keep at least one admin.");
    expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({ role: "editor" });
  });

  it("creates a user with a role and a password, then lists them", async () => {
    const user = userEvent.setup();
    let members = [ada];
    const calls = fakeApi("admin", {
      "GET /invitations": page([]),
      "GET /tokens": page([]),
      "GET /playground/github-connection": connection,
      "GET /members": () => page(members),
      "POST /members": () => {
        const added: Member = {
          id: 3,
          user: { id: 3, username: "eve", email: "" },
          role: "editor",
        };
        members = [ada, added];
        return Response.json(added, { status: 201 });
      },
    });
    renderAs(<SettingsPage />);

    await user.type(await screen.findByLabelText("Username"), "eve");
    await user.selectOptions(screen.getByLabelText("Role"), "editor");
    await user.type(screen.getByLabelText("Password"), "pw-123456789");
    await user.click(screen.getByRole("button", { name: "Create user" }));

    expect(await screen.findByRole("combobox", { name: "Role of eve" })).toHaveValue("editor");
    expect(screen.getByRole("status")).toHaveTextContent("eve is now an editor.");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      username: "eve",
      role: "editor",
      password: "pw-123456789",
    });
  });
});

describe("invitations", () => {
  const pending: Invitation = {
    id: "i-1",
    invitee: "bob@globex.io",
    role: "editor",
    invited_by: "ada",
    created_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-08T00:00:00Z",
  };

  it("invites by username or email, lists the pending ones and revokes one", async () => {
    const user = userEvent.setup();
    let invitations: Invitation[] = [];
    const calls = fakeApi("admin", {
      "GET /tokens": page([]),
      "GET /playground/github-connection": connection,
      "GET /members": page([ada]),
      "GET /invitations": () => page(invitations),
      "POST /invitations": () => {
        invitations = [pending];
        return Response.json(pending, { status: 201 });
      },
      "DELETE /invitations/i-1": () => {
        invitations = [];
        return null;
      },
    });
    renderAs(<SettingsPage />);

    expect(await screen.findByText("No pending invitations.")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Username or email"), "bob@globex.io");
    await user.selectOptions(screen.getByLabelText("Invited role"), "editor");
    await user.click(screen.getByRole("button", { name: "Invite" }));

    const table = await screen.findByRole("table", { name: "Pending invitations" });
    expect(within(table).getByRole("cell", { name: "bob@globex.io" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Invited bob@globex.io.");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      invitee: "bob@globex.io",
      role: "editor",
    });

    await user.click(within(table).getByRole("button", { name: "Revoke" }));
    await user.click(await screen.findByRole("button", { name: /confirm/i }));
    expect(await screen.findByText("No pending invitations.")).toBeInTheDocument();
    expect(calls.some((call) => call.method === "DELETE" && call.path === "/invitations/i-1")).toBe(
      true,
    );
  });
});

describe("GitHub connection", () => {
  it("sends the token only when one is typed, and says it saved", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("admin", {
      "GET /invitations": page([]),
      "GET /tokens": page([]),
      "GET /playground/github-connection": connection,
      "PUT /playground/github-connection": () => ({ ...connection, base_branch: "release" }),
      "GET /members": page([ada]),
    });
    renderAs(<SettingsPage />);

    const branch = await screen.findByLabelText("Base branch");
    expect(screen.getByLabelText("Repository")).toHaveValue("acme/app");
    expect(screen.getByText("A token is stored on this connection.")).toBeInTheDocument();
    await user.clear(branch);
    await user.type(branch, "release");
    await user.click(screen.getByRole("button", { name: "Save connection" }));

    await waitFor(() => expect(screen.getByText("Saved.")).toBeInTheDocument());
    expect(calls.find((call) => call.method === "PUT")?.body).toEqual({
      repository: "acme/app",
      base_branch: "release",
      strip_prefix: "",
      add_prefix: "",
    });
  });
});
