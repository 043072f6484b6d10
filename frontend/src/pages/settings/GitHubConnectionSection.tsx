// Where the playground's pull requests go: repository, branch, path mapping and the
// credentials (write-only: the form says whether one is stored, never what it is).
import { useState, type FormEvent } from "react";
import type { EditGitHubConnectionBody, GitHubConnection } from "../../api/types";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView } from "../../components/StateViews";
import { useGitHubConnection, useSaveGitHubConnection } from "./api";
import { SaveBar } from "./SaveBar";

export function GitHubConnectionSection() {
  const connection = useGitHubConnection();
  return (
    <section className="card settings-section" aria-labelledby="github-heading">
      <h2 id="github-heading">GitHub connection</h2>
      <p className="muted">The repository that “Open pull request” in the playground writes to.</p>
      <AsyncView {...connection} onRetry={connection.reload}>
        {(current) => <GitHubConnectionForm current={current} />}
      </AsyncView>
    </section>
  );
}

/** What the server reports about a secret it keeps. */
function tokenStatus(current: GitHubConnection): string {
  if (current.token_source === "stored") return "A token is stored on this connection.";
  if (current.token_source === "environment") return "Using the server's GITHUB_TOKEN.";
  return "No token: pull requests cannot be opened until one is set.";
}

function GitHubConnectionForm({ current }: { current: GitHubConnection }) {
  const [repository, setRepository] = useState(current.repository);
  const [baseBranch, setBaseBranch] = useState(current.base_branch ?? "main");
  const [stripPrefix, setStripPrefix] = useState(current.strip_prefix ?? "");
  const [addPrefix, setAddPrefix] = useState(current.add_prefix ?? "");
  const [token, setToken] = useState("");
  const [removeToken, setRemoveToken] = useState(false);
  const [webhookSecret, setWebhookSecret] = useState("");
  const [isSaved, setIsSaved] = useState(false);

  const save = useSaveGitHubConnection({
    onSuccess: () => {
      // The secrets were sent; the form goes back to "keep what is stored".
      setToken("");
      setRemoveToken(false);
      setWebhookSecret("");
      setIsSaved(true);
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setIsSaved(false);
    const body: EditGitHubConnectionBody = {
      repository: repository.trim(),
      base_branch: baseBranch.trim(),
      strip_prefix: stripPrefix,
      add_prefix: addPrefix,
    };
    // Absent keeps the stored secret; "" removes the stored token.
    if (removeToken) body.token = "";
    else if (token) body.token = token;
    if (webhookSecret) body.webhook_secret = webhookSecret;
    save.mutate(body);
  };

  return (
    <form className="settings-form" onSubmit={submit} aria-label="GitHub connection">
      <div className="grid-2">
        <label className="field">
          <span>Repository</span>
          <input
            value={repository}
            onChange={(event) => setRepository(event.target.value)}
            placeholder="owner/name"
            required
          />
        </label>
        <label className="field">
          <span>Base branch</span>
          <input value={baseBranch} onChange={(event) => setBaseBranch(event.target.value)} />
        </label>
        <label className="field">
          <span>Strip prefix</span>
          <input
            value={stripPrefix}
            onChange={(event) => setStripPrefix(event.target.value)}
            placeholder="removed from the paths workers report"
          />
        </label>
        <label className="field">
          <span>Add prefix</span>
          <input
            value={addPrefix}
            onChange={(event) => setAddPrefix(event.target.value)}
            placeholder="then put in front, to make the repository path"
          />
        </label>
        <div className="field">
          <label className="field">
            <span>Token</span>
            <input
              type="password"
              autoComplete="off"
              value={token}
              disabled={removeToken}
              onChange={(event) => setToken(event.target.value)}
              placeholder={current.has_token ? "leave empty to keep the stored token" : "ghp_…"}
            />
          </label>
          <p className="muted">{tokenStatus(current)}</p>
          {current.token_source === "stored" && (
            <label className="checkbox">
              <input
                type="checkbox"
                checked={removeToken}
                onChange={(event) => setRemoveToken(event.target.checked)}
              />
              Remove the stored token
            </label>
          )}
        </div>
        <div className="field">
          <label className="field">
            <span>Webhook secret</span>
            <input
              type="password"
              autoComplete="off"
              value={webhookSecret}
              onChange={(event) => setWebhookSecret(event.target.value)}
              placeholder={
                current.has_webhook_secret ? "leave empty to keep the stored secret" : ""
              }
            />
          </label>
          <p className="muted">
            {current.has_webhook_secret ? "A webhook secret is stored." : "No webhook secret."}
          </p>
        </div>
      </div>
      <p className="muted">
        GitHub API: <code>{current.api_url}</code>
        {current.updated_at && (
          <>
            {" "}
            · last saved <RelativeTime value={current.updated_at} />
          </>
        )}
      </p>
      <SaveBar
        label="Save connection"
        isPending={save.isPending}
        isSaved={isSaved}
        error={save.error}
      />
    </form>
  );
}
