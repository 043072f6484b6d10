// Hides controls the current role may not use: viewers never see edit buttons.
// The server enforces roles regardless; this only keeps the page honest.
import type { ReactNode } from "react";
import type { Role } from "../api/types";
import { useSession } from "../session";

export interface RequireRoleProps {
  role: Role;
  children: ReactNode;
  /** Rendered instead when the role is not enough; nothing by default. */
  fallback?: ReactNode;
}

export function RequireRole({ role, children, fallback = null }: RequireRoleProps) {
  const { can } = useSession();
  return <>{can(role) ? children : fallback}</>;
}
