// The settings' reads and writes (tokens, members, invitations, the GitHub
// connection, history retention), typed, over the shared client and hooks.
import type {
  EditGitHubConnectionBody,
  EditRetentionBody,
  GitHubConnection,
  Invitation,
  IssuedToken,
  Member,
  MemberRoleBody,
  NewInvitationBody,
  NewMemberBody,
  NewTokenBody,
  Paginated,
  Retention,
  Token,
} from "../../api/types";
import { useApi, useApiMutation, type MutationCallbacks } from "../../api/useApi";

export function useTokens() {
  return useApi<Paginated<Token>>("/tokens?limit=500");
}

export function useCreateToken(callbacks: MutationCallbacks<IssuedToken> = {}) {
  return useApiMutation<NewTokenBody, IssuedToken>("POST", "/tokens", {
    invalidates: ["/tokens"],
    ...callbacks,
  });
}

export function useRevokeToken(tokenId: Token["id"]) {
  return useApiMutation<undefined, void>("DELETE", `/tokens/${tokenId}`, {
    invalidates: ["/tokens"],
  });
}

export function useMembers() {
  return useApi<Paginated<Member>>("/members?limit=500");
}

export function useAddMember(callbacks: MutationCallbacks<Member> = {}) {
  return useApiMutation<NewMemberBody, Member>("POST", "/members", {
    invalidates: ["/members"],
    ...callbacks,
  });
}

export function useChangeMemberRole(memberId: Member["id"]) {
  return useApiMutation<MemberRoleBody, Member>("PATCH", `/members/${memberId}`, {
    invalidates: ["/members"],
  });
}

export function useRemoveMember(memberId: Member["id"]) {
  return useApiMutation<undefined, void>("DELETE", `/members/${memberId}`, {
    invalidates: ["/members"],
  });
}

export function useInvitations() {
  return useApi<Paginated<Invitation>>("/invitations?limit=500");
}

export function useSendInvitation(callbacks: MutationCallbacks<Invitation> = {}) {
  return useApiMutation<NewInvitationBody, Invitation>("POST", "/invitations", {
    invalidates: ["/invitations"],
    ...callbacks,
  });
}

export function useRevokeInvitation(invitationId: Invitation["id"]) {
  return useApiMutation<undefined, void>("DELETE", `/invitations/${invitationId}`, {
    invalidates: ["/invitations"],
  });
}

export function useGitHubConnection() {
  return useApi<GitHubConnection>("/playground/github-connection");
}

export function useSaveGitHubConnection(callbacks: MutationCallbacks<GitHubConnection> = {}) {
  return useApiMutation<EditGitHubConnectionBody, GitHubConnection>(
    "PUT",
    "/playground/github-connection",
    { invalidates: ["/playground/github-connection"], ...callbacks },
  );
}

export function useRetention() {
  return useApi<Retention>("/retention");
}

export function useSaveRetention(callbacks: MutationCallbacks<Retention> = {}) {
  return useApiMutation<EditRetentionBody, Retention>("PUT", "/retention", {
    invalidates: ["/retention"],
    ...callbacks,
  });
}
