// The signed-in person's own resources (not the tenant's): the invitations they
// received, and their answers. Shown above every page, so they live beside the client.
import type { Paginated, ReceivedInvitation, SessionMembership } from "./types";
import { useApi, useApiMutation, type MutationCallbacks } from "./useApi";

const receivedInvitations = "/session/invitations";

export function useReceivedInvitations() {
  return useApi<Paginated<ReceivedInvitation>>(`${receivedInvitations}?limit=50`);
}

export function useAcceptInvitation(
  invitationId: ReceivedInvitation["id"],
  callbacks: MutationCallbacks<SessionMembership> = {},
) {
  return useApiMutation<undefined, SessionMembership>(
    "POST",
    `${receivedInvitations}/${invitationId}/accept`,
    { invalidates: [receivedInvitations], ...callbacks },
  );
}

export function useDeclineInvitation(invitationId: ReceivedInvitation["id"]) {
  return useApiMutation<undefined, void>("POST", `${receivedInvitations}/${invitationId}/decline`, {
    invalidates: [receivedInvitations],
  });
}
