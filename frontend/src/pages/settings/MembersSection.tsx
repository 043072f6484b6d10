// The tenant's members and their roles: everyone sees them; admins create new users
// as members, change roles and remove members (people who already have a user are
// invited instead). The server guards the last admin and says so.
import { useId, useState, type FormEvent } from "react";
import type { Member, NewMemberBody, Role } from "../../api/types";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { RoleSelect } from "../../components/RoleSelect";
import { AsyncView, Empty } from "../../components/StateViews";
import { useSession } from "../../session";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { TableHead } from "../../components/TableHead";
import { useAddMember, useChangeMemberRole, useMembers, useRemoveMember } from "./api";

export function MembersSection() {
  const members = useMembers();
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
  const changeRole = useChangeMemberRole(member.id);
  const remove = useRemoveMember(member.id);
  // While the change is in flight show the chosen role; after a refusal, the stored one.
  const shownRole = changeRole.isPending ? changeRole.variables?.role : member.role;
  const error = changeRole.error ?? remove.error;
  return (
    <tr>
      <td>{member.user.username}</td>
      <td>{member.user.email || <span className="muted">—</span>}</td>
      <td>
        {canEdit ? (
          <RoleSelect
            label={`Role of ${member.user.username}`}
            value={shownRole ?? ""}
            disabled={changeRole.isPending}
            describedBy={error ? errorId : undefined}
            onChange={(role) => {
              remove.reset();
              changeRole.mutate({ role });
            }}
          />
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
  const add = useAddMember({
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
    body.password = password;
    add.mutate(body);
  };
  return (
    <form className="settings-form" onSubmit={submit} aria-labelledby="add-member-heading">
      <h3 id="add-member-heading">Create a user</h3>
      <p className="muted">
        For someone new to this server; a person who already has a user is invited instead.
      </p>
      <div className="form-row">
        <label className="field">
          <span>Username</span>
          <input value={username} onChange={(event) => setUsername(event.target.value)} required />
        </label>
        <label className="field">
          <span>Role</span>
          <RoleSelect label="Role" value={role} onChange={setRole} />
        </label>
        <label className="field">
          <span>Email (optional)</span>
          <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            required
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
      </div>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={add.isPending}>
          Create user
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
