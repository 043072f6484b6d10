// A select of the tenant's workflows by name; the empty choice says what no choice means.
import { useWorkflows } from "../pages/workflows/api";

export function WorkflowSelect({
  label,
  value,
  emptyLabel,
  onChange,
  required,
}: {
  label: string;
  value: string;
  emptyLabel: string;
  onChange: (name: string) => void;
  required?: boolean;
}) {
  const workflows = useWorkflows({ limit: 200 });
  return (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(event) => onChange(event.target.value)} required={required}>
        <option value="">{emptyLabel}</option>
        {(workflows.data?.results ?? []).map((item) => (
          <option key={item.name} value={item.name}>
            {item.name}
          </option>
        ))}
      </select>
    </label>
  );
}
