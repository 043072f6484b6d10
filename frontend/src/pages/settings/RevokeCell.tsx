// The last cell of a revocable row (a token, an invitation): a confirmed DELETE of
// `path` that refreshes the list it belongs to.
import { useApiMutation } from "../../api/useApi";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";

export function RevokeCell({ path, list }: { path: string; list: string }) {
  const revoke = useApiMutation<undefined, void>("DELETE", path, { invalidates: [list] });
  return (
    <td>
      <ConfirmButton onConfirm={() => revoke.mutate(undefined)} disabled={revoke.isPending}>
        Revoke
      </ConfirmButton>
      <ApiErrorMessage error={revoke.error} />
    </td>
  );
}
