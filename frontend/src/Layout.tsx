// The frame around every page: sidebar navigation, header with the session
// controls, the signed-in person's invitations, and the page itself.
import { NavLink, Outlet } from "react-router-dom";
import { SessionControls, useSession } from "./session";
import { MyInvitations } from "./components/MyInvitations";
import { Empty } from "./components/StateViews";

const navItems = [
  { to: "/overview", label: "Overview" },
  { to: "/runs", label: "Runs" },
  { to: "/workflows", label: "Workflows" },
  { to: "/events", label: "Events" },
  { to: "/triggers", label: "Crons & schedules" },
  { to: "/rate-limits", label: "Rate limits" },
  { to: "/workers", label: "Workers" },
  { to: "/alerts", label: "Alerts" },
  { to: "/playground", label: "Playground" },
  { to: "/datasets", label: "Datasets" },
  { to: "/evaluators", label: "Evaluators" },
  { to: "/settings", label: "Settings" },
];

export function Layout() {
  const { tenant } = useSession();
  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">Hatchet</div>
        <nav aria-label="Main">
          <ul>
            {navItems.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} className="nav-link">
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <header className="topbar">
        <span className="tenant-name">{tenant?.name}</span>
        <SessionControls />
      </header>
      {/* Keyed by tenant so every page refetches and resubscribes after a switch. */}
      <main id="main" className="content" key={tenant?.slug ?? ""}>
        <MyInvitations />
        {tenant ? <Outlet /> : <Empty message="Your account is not a member of any tenant yet." />}
      </main>
    </div>
  );
}
