// Roles and what they allow. The session's shapes come from the schema (types.ts);
// the ordering of roles is a product rule the schema cannot express.
import type { Role, TokenRole } from "./types";

/** Roles from least to most powerful; each can do everything the ones before it can. */
export const roleOrder: readonly Role[] = ["viewer", "editor", "admin"];

export function roleAllows(role: Role | null, required: Role): boolean {
  if (role === null) return false;
  return roleOrder.indexOf(role) >= roleOrder.indexOf(required);
}

/** A token's roles: a member's, least to most powerful, then the worker scope. */
export const tokenRoles: readonly { role: TokenRole; allows: string }[] = [
  { role: "viewer", allows: "reads everything" },
  { role: "editor", allows: "reads, triggers runs, registers workflows" },
  { role: "admin", allows: "everything, also tokens, members and GitHub" },
  { role: "worker", allows: "runs workers and registers their workflows, nothing else" },
];
