// How a refused write reads next to the form that sent it: the server's message,
// then each field the server named. A 403 says which role is missing rather than
// leaving the user with a bare "forbidden".
import type { ApiError } from "../api/client";

/** `{field: ["message", ...]}` from a validation error, flattened to "field: message". */
export function fieldMessages(details: unknown): string[] {
  if (details === null || typeof details !== "object" || Array.isArray(details)) return [];
  return Object.entries(details as Record<string, unknown>).flatMap(([field, value]) => {
    const messages = Array.isArray(value) ? value : [value];
    return messages
      .filter((message): message is string => typeof message === "string")
      .map((message) => (field === "non_field_errors" ? message : `${field}: ${message}`));
  });
}

export interface ApiErrorMessageProps {
  error: ApiError | null;
  id?: string;
}

export function ApiErrorMessage({ error, id }: ApiErrorMessageProps) {
  if (error === null) return null;
  const fields = fieldMessages(error.details);
  // The message already quotes the first field; a list only helps when there are more.
  const extra = fields.length > 1 ? fields : [];
  return (
    <div id={id} className="form-error" role="alert">
      <p className="form-error">
        {error.status === 403
          ? `You do not have permission for this: ${error.message}`
          : error.message}
      </p>
      {extra.length > 0 && (
        <ul>
          {extra.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
