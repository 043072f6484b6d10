import { render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeSocket, stubSockets } from "../../test-utils";
import { queuedPullRequest } from "./fixtures";
import { PullRequestLive } from "./PullRequestPanel";

const queued = queuedPullRequest([
  {
    step: "draft",
    name: "system_prompt",
    path: "examples/support_reply.py",
    old: "Be kind.",
    new: "Be brief.",
  },
]);

const state = (fields: Record<string, unknown>) => ({
  type: "pull_request.state",
  id: "pr-1",
  reason: "",
  attempts: 1,
  branch: "hatchet/playground/brief",
  commit_sha: "",
  pr_number: null,
  pr_url: "",
  pr_state: "",
  updated_at: "2026-01-01T00:00:00Z",
  ...fields,
});

beforeEach(stubSockets);
afterEach(() => vi.unstubAllGlobals());

describe("PullRequestLive", () => {
  it("follows the request from queued to opened and then links the pull request", () => {
    render(<PullRequestLive initial={queued} />);
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toMatch(/\/ws\/playground\/pull-requests\/pr-1/);
    expect(screen.getByText("Queued", { selector: "li" })).toHaveAttribute("aria-current", "step");
    expect(screen.getByText("examples/support_reply.py")).toBeInTheDocument();

    socket.receive(state({ state: "running" }));
    expect(screen.getByText("Running", { selector: "li" })).toHaveAttribute("aria-current", "step");
    expect(screen.queryByRole("link")).not.toBeInTheDocument();

    socket.receive(
      state({
        state: "opened",
        pr_number: 12,
        pr_url: "https://github.example/acme/app/pull/12",
        pr_state: "open",
      }),
    );
    const link = screen.getByRole("link", { name: "Pull request #12" });
    expect(link).toHaveAttribute("href", "https://github.example/acme/app/pull/12");
    expect(socket.isClosed).toBe(true);
  });

  it("shows the reason when the request failed", () => {
    render(<PullRequestLive initial={queued} />);
    FakeSocket.instances[0]!.receive(
      state({ state: "failed", reason: "The default of system_prompt is not a literal." }),
    );
    expect(screen.getByRole("alert")).toHaveTextContent(
      "The default of system_prompt is not a literal.",
    );
    expect(screen.getByText("Failed", { selector: "li" })).toBeInTheDocument();
  });
});
