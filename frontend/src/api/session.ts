// Shapes of /api/v1/session. Written by hand until the endpoint is in the OpenAPI
// schema; then these become aliases of components["schemas"] in types.ts.

export type Role = "viewer" | "editor" | "admin";

export interface SessionUser {
  id: number;
  username: string;
  email: string;
}

export interface SessionTenant {
  id: string;
  slug: string;
  name: string;
}

export interface Membership {
  tenant: SessionTenant;
  role: Role;
}

export interface Session {
  user: SessionUser | null;
  memberships: Membership[];
}

/** Roles from least to most powerful; each can do everything the ones before it can. */
export const roleOrder: readonly Role[] = ["viewer", "editor", "admin"];

export function roleAllows(role: Role | null, required: Role): boolean {
  if (role === null) return false;
  return roleOrder.indexOf(role) >= roleOrder.indexOf(required);
}
