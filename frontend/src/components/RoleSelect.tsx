// A role picker, named outright: a wrapping label would add the chosen option to
// its accessible name.
import { roleOrder } from "../api/roles";
import type { Role } from "../api/types";

export interface RoleSelectProps {
  label: string;
  value: Role | "";
  onChange: (role: Role) => void;
  disabled?: boolean;
  describedBy?: string;
}

export function RoleSelect({ label, value, onChange, disabled, describedBy }: RoleSelectProps) {
  return (
    <select
      aria-label={label}
      value={value}
      disabled={disabled}
      aria-describedby={describedBy}
      onChange={(event) => onChange(event.target.value as Role)}
    >
      {roleOrder.map((role) => (
        <option key={role} value={role}>
          {role}
        </option>
      ))}
    </select>
  );
}
