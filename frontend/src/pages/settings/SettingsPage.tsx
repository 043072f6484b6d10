// Settings: API tokens and the GitHub connection (admins), the tenant's members,
// invitations (admins), and how long history is kept.
import { RequireRole } from "../../components/RequireRole";
import { useSession } from "../../session";
import { GitHubConnectionSection } from "./GitHubConnectionSection";
import { InvitationsSection } from "./InvitationsSection";
import { MembersSection } from "./MembersSection";
import { RetentionSection } from "./RetentionSection";
import { TokensSection } from "./TokensSection";
import "./settings.css";

function AdminOnly({ title }: { title: string }) {
  return (
    <section className="card settings-section" aria-label={title}>
      <h2>{title}</h2>
      <p className="muted">Only admins can see and change this.</p>
    </section>
  );
}

export function SettingsPage() {
  const { tenant, role } = useSession();
  return (
    <section className="page settings-page">
      <div className="page-header">
        <h1>Settings</h1>
        <span className="muted">
          {tenant?.name} · your role: <strong>{role}</strong>
        </span>
      </div>
      <RequireRole role="admin" fallback={<AdminOnly title="API tokens" />}>
        <TokensSection />
      </RequireRole>
      <RequireRole role="admin" fallback={<AdminOnly title="GitHub connection" />}>
        <GitHubConnectionSection />
      </RequireRole>
      <MembersSection />
      <RequireRole role="admin">
        <InvitationsSection />
      </RequireRole>
      <RetentionSection />
    </section>
  );
}
