// The signed-in person's pending invitations, above every page (and in place of the
// pages while they belong to no tenant): accepting one makes them a member.
import { useAcceptInvitation, useDeclineInvitation, useReceivedInvitations } from "../api/session";
import type { ReceivedInvitation } from "../api/types";
import { useSession } from "../session";
import { ApiErrorMessage } from "./ApiErrorMessage";
import { RelativeTime } from "./RelativeTime";

export function MyInvitations() {
  const invitations = useReceivedInvitations();
  const pending = invitations.data?.results ?? [];
  if (pending.length === 0) return null;
  return (
    <section className="card my-invitations" aria-labelledby="my-invitations-heading">
      <h2 id="my-invitations-heading">Invitations for you</h2>
      <ul>
        {pending.map((invitation) => (
          <InvitationItem key={invitation.id} invitation={invitation} />
        ))}
      </ul>
    </section>
  );
}

function InvitationItem({ invitation }: { invitation: ReceivedInvitation }) {
  const { reload } = useSession();
  const accept = useAcceptInvitation(invitation.id, { onSuccess: reload });
  const decline = useDeclineInvitation(invitation.id);
  const busy = accept.isPending || decline.isPending;
  const answers = [
    { label: "Accept", mutation: accept, primary: true },
    { label: "Decline", mutation: decline, primary: false },
  ];
  return (
    <li>
      <span>
        <strong>{invitation.tenant.name}</strong> as{" "}
        <span className="role-tag">{invitation.role}</span>
        {invitation.invited_by && <> from {invitation.invited_by}</>}, expires{" "}
        <RelativeTime value={invitation.expires_at} />
      </span>
      <span className="toolbar">
        {answers.map(({ label, mutation, primary }) => (
          <button
            key={label}
            type="button"
            className={primary ? "button primary" : "button"}
            disabled={busy}
            aria-label={`${label} the invitation to ${invitation.tenant.name}`}
            onClick={() => mutation.mutate(undefined)}
          >
            {label}
          </button>
        ))}
      </span>
      <ApiErrorMessage error={accept.error ?? decline.error} />
    </li>
  );
}
