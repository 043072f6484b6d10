// The tenant's members and their roles: everyone sees them; admins add members,
// change roles and remove members. The server guards the last admin and says so.
import { useId, useState, type FormEvent } from "react";
import { roleOrder } from "../../api/roles";
import { useApi, useApiMutation } from "../../api/useApi";
import type { Member, NewMemberBody, Paginated, MemberRoleBody, Role } from "../../api/types";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { useSession } from "../../session";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { TableHead } from "../../components/TableHead";

export function MembersSection() {
  const members = useApi<Paginated<Member>>("/members?limit=500");
  const { can } = useSession();
  const canEdit = can("admin");
  return (
    <section className="card settings-section" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <p className="muted">
        Viewers see everything; editors also trigger, cancel and replay runs and manage crons;
        admins also manage tokens, the GitHub connection and members.
      </p>
      <AsyncView {...members} onRetry={members.reload} empty={<Empty message="No members." />}>
        {(page) => (
          <table className="data-table">
            <TableHead columns={["User", "Email", "Role", "Member since"]} hasActions={canEdit} />
            <tbody>
              {page.results.map((member) => (
                <MemberRow key={member.id} member={member} canEdit={canEdit} />
              ))}
            </tbody>
          </table>
        )}
      </AsyncView>
      <RequireRole role="admin">
        <AddMemberForm />
      </RequireRole>
    </section>
  );
}

function MemberRow({ member, canEdit }: { member: Member; canEdit: boolean }) {
  const errorId = useId();
  const changeRole = useApiMutation<MemberRoleBody, Member>("PATCH", `/members/${member.id}`, {
    invalidates: ["/members"],
  });
  const remove = useApiMutation<undefined, void>("DELETE", `/members/${member.id}`, {
    invalidates: ["/members"],
  });
  // While the change is in flight show the chosen role; after a refusal, the stored one.
  const shownRole = changeRole.isPending ? changeRole.variables?.role : member.role;
  const error = changeRole.error ?? remove.error;
  return (
    <tr>
      <td>{member.user.username}</td>
      <td>{member.user.email || <span className="muted">—</span>}</td>
      <td>
        {canEdit ? (
          <select
            aria-label={`Role of ${member.user.username}`}
            value={shownRole ?? ""}
            disabled={changeRole.isPending}
            aria-describedby={error ? errorId : undefined}
            onChange={(event) => {
              remove.reset();
              changeRole.mutate({ role: event.target.value as Role });
            }}
          >
            {roleOrder.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        ) : (
          <span className="role-tag">{member.role}</span>
        )}
        <ApiErrorMessage id={errorId} error={error} />
      </td>
      <td>
        <RelativeTime value={member.created_at} />
      </td>
      {canEdit && (
        <td>
          <ConfirmButton
            onConfirm={() => {
              changeRole.reset();
              remove.mutate(undefined);
            }}
            disabled={remove.isPending}
          >
            Remove
          </ConfirmButton>
        </td>
      )}
    </tr>
  );
}

function AddMemberForm() {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [added, setAdded] = useState<string | null>(null);
  const add = useApiMutation<NewMemberBody, Member>("POST", "/members", {
    invalidates: ["/members"],
    onSuccess: (member) => {
      const role = member.role ?? "member";
      setAdded(`${member.user.username} is now ${/^[aeiou]/.test(role) ? "an" : "a"} ${role}.`);
      setUsername("");
      setEmail("");
      setPassword("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    // The schema marks email as defaulting to "", yet the server refuses a blank one:
    // leave it out unless given.
    const body = { username: username.trim(), role } as NewMemberBody;
    if (email.trim()) body.email = email.trim();
    if (password) body.password = password;
    add.mutate(body);
  };
  return (
    <form className="settings-form" onSubmit={submit} aria-labelledby="add-member-heading">
      <h3 id="add-member-heading">Add a member</h3>
      <div className="form-row">
        <label className="field">
          <span>Username</span>
          <input value={username} onChange={(event) => setUsername(event.target.value)} required />
        </label>
        <label className="field">
          <span>Role</span>
          {/* Named outright: a wrapping label would add the chosen option to the name. */}
          <select aria-label="Role" value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {roleOrder.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Email (optional)</span>
          <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} />
        </label>
        <label className="field">
          <span>Password (only for a new user)</span>
          <input
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
      </div>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={add.isPending}>
          Add member
        </button>
        {added && (
          <span role="status" className="muted">
            {added}
          </span>
        )}
      </div>
      <ApiErrorMessage error={add.error} />
    </form>
  );
}
