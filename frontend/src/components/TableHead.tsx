// The header row of a `data-table`: its column names and, where rows carry buttons,
// an actions column that is named for screen readers only.

export function TableHead({
  columns,
  hasActions = false,
}: {
  columns: string[];
  hasActions?: boolean;
}) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
        {hasActions && (
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
