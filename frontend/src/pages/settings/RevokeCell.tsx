// The last cell of a revocable row (a token, an invitation): a confirmed revoke that
// shows the server's refusal beside it.
import type { UseMutationResult } from "@tanstack/react-query";
import type { ApiError } from "../../api/client";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";

export function RevokeCell({ revoke }: { revoke: UseMutationResult<void, ApiError, undefined> }) {
  return (
    <td>
      <ConfirmButton onConfirm={() => revoke.mutate(undefined)} disabled={revoke.isPending}>
        Revoke
      </ConfirmButton>
      <ApiErrorMessage error={revoke.error} />
    </td>
  );
}
