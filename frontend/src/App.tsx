// Routes of the dashboard. Signed out, every address shows the sign-in form and
// keeps its URL, so signing in lands on the page that was asked for.
import { QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { createQueryClient } from "./api/useApi";
import { Layout } from "./Layout";
import { SessionProvider, SignInPage, useSession } from "./session";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OverviewPage } from "./pages/overview/OverviewPage";
import { RunsPage } from "./pages/runs/RunsPage";
import { RunPage } from "./pages/runs/RunPage";
import { WorkflowsPage } from "./pages/workflows/WorkflowsPage";
import { WorkflowPage } from "./pages/workflows/WorkflowPage";
import { EventsPage } from "./pages/events/EventsPage";
import { EventPage } from "./pages/events/EventPage";
import { TriggersPage } from "./pages/triggers/TriggersPage";
import { RateLimitsPage } from "./pages/rate-limits/RateLimitsPage";
import { WorkersPage } from "./pages/workers/WorkersPage";
import { PlaygroundPage } from "./pages/playground/PlaygroundPage";
import { BlindReviewPage } from "./pages/playground/BlindReviewPage";
import { ComparisonPage } from "./pages/playground/ComparisonPage";
import { DatasetsPage } from "./pages/datasets/DatasetsPage";
import { DatasetPage } from "./pages/datasets/DatasetPage";
import { EvaluatorsPage } from "./pages/evaluators/EvaluatorsPage";
import { SettingsPage } from "./pages/settings/SettingsPage";
import { AlertsPage } from "./pages/alerts/AlertsPage";

export function AppRoutes() {
  const { user } = useSession();
  if (user === null) return <SignInPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/runs" replace />} />
        <Route path="overview" element={<OverviewPage />} />
        <Route path="runs" element={<RunsPage />} />
        <Route path="runs/:runId" element={<RunPage />} />
        <Route path="workflows" element={<WorkflowsPage />} />
        <Route path="workflows/:name" element={<WorkflowPage />} />
        <Route path="events" element={<EventsPage />} />
        <Route path="events/:eventId" element={<EventPage />} />
        <Route path="triggers" element={<TriggersPage />} />
        <Route path="rate-limits" element={<RateLimitsPage />} />
        <Route path="workers" element={<WorkersPage />} />
        <Route path="alerts" element={<AlertsPage />} />
        <Route path="playground" element={<PlaygroundPage />} />
        <Route path="playground/compare/:comparisonId" element={<ComparisonPage />} />
        <Route path="playground/compare/:comparisonId/blind" element={<BlindReviewPage />} />
        <Route path="datasets" element={<DatasetsPage />} />
        <Route path="datasets/:datasetId" element={<DatasetPage />} />
        <Route path="evaluators" element={<EvaluatorsPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <SessionProvider>
          <AppRoutes />
        </SessionProvider>
      </BrowserRouter>
    </QueryClientProvider>
  );
}
