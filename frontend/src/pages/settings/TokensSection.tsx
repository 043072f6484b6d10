// API tokens: list, issue (the secret is shown once, right here), revoke. Admins only.
import { useId, useState, type FormEvent } from "react";
import { tokenRoles } from "../../api/roles";
import type { IssuedToken, Token, TokenRole } from "../../api/types";
import { CopyButton } from "../../components/CopyButton";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView, Empty } from "../../components/StateViews";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { TableHead } from "../../components/TableHead";
import { useCreateToken, useRevokeToken, useTokens } from "./api";
import { RevokeCell } from "./RevokeCell";

export function TokensSection() {
  const tokens = useTokens();
  const [isFormOpen, setIsFormOpen] = useState(false);
  const [issued, setIssued] = useState<IssuedToken | null>(null);

  return (
    <section className="card settings-section" aria-labelledby="tokens-heading">
      <div className="page-header">
        <h2 id="tokens-heading">API tokens</h2>
        {!isFormOpen && (
          <button type="button" className="button primary" onClick={() => setIsFormOpen(true)}>
            New token
          </button>
        )}
      </div>
      <p className="muted">
        Programs and workers authenticate with these; each acts with its role. Give a worker host a
        worker token: it can run workers and nothing else.
      </p>
      {isFormOpen && (
        <NewTokenForm
          onClose={() => setIsFormOpen(false)}
          onIssued={(token) => {
            setIssued(token);
            setIsFormOpen(false);
          }}
        />
      )}
      {issued && <IssuedTokenNotice token={issued} onDismiss={() => setIssued(null)} />}
      <AsyncView {...tokens} onRetry={tokens.reload} empty={<Empty message="No API tokens yet." />}>
        {(page) => <TokensTable tokens={page.results} />}
      </AsyncView>
    </section>
  );
}

function NewTokenForm({
  onClose,
  onIssued,
}: {
  onClose: () => void;
  onIssued: (token: IssuedToken) => void;
}) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<TokenRole>("viewer");
  const errorId = useId();
  const create = useCreateToken({ onSuccess: onIssued });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), role });
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="New token">
      <label className="field">
        <span>Token name</span>
        <input
          value={name}
          onChange={(event) => setName(event.target.value)}
          required
          maxLength={200}
          placeholder="e.g. ci-worker"
          aria-describedby={create.error ? errorId : undefined}
          autoFocus
        />
      </label>
      <label className="field">
        <span>Role</span>
        {/* Named outright: a wrapping label would add the chosen option to the name. */}
        <select
          aria-label="Token role"
          value={role}
          onChange={(event) => setRole(event.target.value as TokenRole)}
        >
          {tokenRoles.map((option) => (
            <option key={option.role} value={option.role}>
              {option.role} — {option.allows}
            </option>
          ))}
        </select>
      </label>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={create.isPending}>
          Create token
        </button>
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ApiErrorMessage id={errorId} error={create.error} />
    </form>
  );
}

function IssuedTokenNotice({ token, onDismiss }: { token: IssuedToken; onDismiss: () => void }) {
  return (
    <div className="issued-token" role="status" aria-label="New token">
      <p>
        <strong>
          {/^[aeiou]/.test(token.role) ? "An" : "A"} {token.role} token “{token.name}” created.
        </strong>{" "}
        Copy it now: you will not see it again.
      </p>
      <div className="toolbar">
        <code className="code issued-token-secret" data-testid="issued-token">
          {token.token}
        </code>
        <CopyButton text={token.token} label="Copy token" />
        <button type="button" className="button" onClick={onDismiss}>
          Done
        </button>
      </div>
    </div>
  );
}

function TokensTable({ tokens }: { tokens: Token[] }) {
  return (
    <table className="data-table">
      <TableHead
        columns={["Name", "Role", "Prefix", "Created", "Created by", "Last used"]}
        hasActions
      />
      <tbody>
        {tokens.map((token) => (
          <TokenRow key={token.id} token={token} />
        ))}
      </tbody>
    </table>
  );
}

function TokenRow({ token }: { token: Token }) {
  const revoke = useRevokeToken(token.id);
  return (
    <tr>
      <td>{token.name}</td>
      <td>
        <span className="role-tag">{token.role}</span>
      </td>
      <td>
        <code>{token.prefix}…</code>
      </td>
      <td>
        <RelativeTime value={token.created_at} />
      </td>
      <td>{token.created_by ?? <span className="muted">—</span>}</td>
      <td>
        <RelativeTime value={token.last_used_at} />
      </td>
      <RevokeCell revoke={revoke} />
    </tr>
  );
}
