// The workflows workers have registered, each linking to its page.
import { Link, useSearchParams } from "react-router-dom";
import { Pagination } from "../../components/Pagination";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { useWorkflows } from "./api";
import "./workflows.css";

const pageSize = 50;

export function WorkflowsPage() {
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get("offset") ?? "0") || 0);
  const workflows = useWorkflows({ limit: pageSize, offset });

  return (
    <section className="page">
      <header className="page-header">
        <h1>Workflows</h1>
      </header>
      <AsyncView
        loading={workflows.loading}
        error={workflows.error}
        data={workflows.data}
        onRetry={workflows.reload}
        empty={
          <Empty message="No workflows yet. Start a worker that registers one (see the README's quick start)." />
        }
      >
        {(page) => (
          <>
            <table className="data-table">
              <caption className="visually-hidden">Workflows</caption>
              <TableHead columns={["Name", "Latest version", "Steps", "Registered"]} />
              <tbody>
                {page.results.map((workflow) => (
                  <tr key={workflow.id}>
                    <td>
                      <Link to={`/workflows/${encodeURIComponent(workflow.name)}`}>
                        {workflow.name}
                      </Link>
                    </td>
                    <td>{workflow.latest_version ?? "—"}</td>
                    <td>{workflow.step_count}</td>
                    <td>
                      <RelativeTime value={workflow.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.count > pageSize && (
              <Pagination
                count={page.count}
                limit={pageSize}
                offset={offset}
                onChange={(next) => setParams(next ? { offset: String(next) } : {})}
              />
            )}
          </>
        )}
      </AsyncView>
    </section>
  );
}
