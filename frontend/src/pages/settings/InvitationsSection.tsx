// Invitations (admins): a person who already has a user joins the tenant only by
// accepting one. The server's answer says nothing of whom a name belongs to, so the
// list shows the name as typed.
import { useState, type FormEvent } from "react";
import type { Invitation, Role } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { RelativeTime } from "../../components/RelativeTime";
import { RoleSelect } from "../../components/RoleSelect";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { useInvitations, useRevokeInvitation, useSendInvitation } from "./api";
import { RevokeCell } from "./RevokeCell";

export function InvitationsSection() {
  const invitations = useInvitations();
  return (
    <section className="card settings-section" aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <p className="muted">
        Invite a person by username or email address; they join when they accept it after signing
        in, before it expires.
      </p>
      <InviteForm />
      <AsyncView
        {...invitations}
        onRetry={invitations.reload}
        empty={<Empty message="No pending invitations." />}
      >
        {(page) => (
          <table className="data-table" aria-label="Pending invitations">
            <TableHead columns={["Invited", "Role", "By", "Expires"]} hasActions />
            <tbody>
              {page.results.map((invitation) => (
                <InvitationRow key={invitation.id} invitation={invitation} />
              ))}
            </tbody>
          </table>
        )}
      </AsyncView>
    </section>
  );
}

function InvitationRow({ invitation }: { invitation: Invitation }) {
  const revoke = useRevokeInvitation(invitation.id);
  return (
    <tr>
      <td>{invitation.invitee}</td>
      <td>
        <span className="role-tag">{invitation.role}</span>
      </td>
      <td>{invitation.invited_by ?? <span className="muted">an API token</span>}</td>
      <td>
        <RelativeTime value={invitation.expires_at} />
      </td>
      <RevokeCell revoke={revoke} />
    </tr>
  );
}

function InviteForm() {
  const [invitee, setInvitee] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [sent, setSent] = useState<string | null>(null);
  const send = useSendInvitation({
    onSuccess: (invitation) => {
      setSent(`Invited ${invitation.invitee}.`);
      setInvitee("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSent(null);
    send.mutate({ invitee: invitee.trim(), role });
  };
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Invite someone">
      <div className="form-row">
        <label className="field">
          <span>Username or email</span>
          <input value={invitee} onChange={(event) => setInvitee(event.target.value)} required />
        </label>
        <label className="field">
          <span>Invited role</span>
          <RoleSelect label="Invited role" value={role} onChange={setRole} />
        </label>
      </div>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={send.isPending}>
          Invite
        </button>
        {sent && (
          <span role="status" className="muted">
            {sent}
          </span>
        )}
      </div>
      <ApiErrorMessage error={send.error} />
    </form>
  );
}
