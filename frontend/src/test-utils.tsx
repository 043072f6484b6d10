// What component tests wrap the dashboard's pieces in: a fresh query cache (so no test
// sees another's data) and a router at the address the test needs.
import { QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import { useState, type ReactNode } from "react";
import { MemoryRouter } from "react-router-dom";
import { createQueryClient } from "./api/useApi";

export function Providers({ children, route = "/" }: { children: ReactNode; route?: string }) {
  const [client] = useState(createQueryClient);
  return (
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[route]}>{children}</MemoryRouter>
    </QueryClientProvider>
  );
}

export function renderWithProviders(ui: ReactNode, { route = "/" } = {}): RenderResult {
  return render(<Providers route={route}>{ui}</Providers>);
}
