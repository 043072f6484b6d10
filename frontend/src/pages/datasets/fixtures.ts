// Datasets as the API answers them, for the tests of these pages.
import type { Dataset, DatasetDetail } from "./api";

export const tickets: Dataset = {
  id: "d0000000-0000-4000-8000-000000000001",
  workflow: "Support",
  name: "tickets",
  description: "Real refund tickets",
  version: 2,
  row_count: 2,
  created_by: "ada",
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-02T10:00:00Z",
};

export function ticketsDetail(shown: 1 | 2 = 2): DatasetDetail {
  const first = {
    id: "r0000000-0000-4000-8000-000000000001",
    input: { ticket: "Where is my refund?", customer: 7 },
    expected: "refund",
    notes: "angry",
    source_run: "a0000000-0000-4000-8000-000000000001",
    created_at: "2026-12-01T10:00:00Z",
  };
  const second = {
    id: "r0000000-0000-4000-8000-000000000002",
    input: { ticket: "Site down" },
    expected: { tag: "bug" },
    notes: "",
    source_run: null,
    created_at: "2026-12-02T10:00:00Z",
  };
  return {
    ...tickets,
    versions: [
      {
        number: 2,
        origin: "upload",
        row_count: 2,
        added: 1,
        removed: 0,
        author: "ada",
        created_at: "2026-12-02T10:00:00Z",
      },
      {
        number: 1,
        origin: "runs",
        row_count: 1,
        added: 1,
        removed: 0,
        author: "ada",
        created_at: "2026-12-01T10:00:00Z",
      },
    ],
    shown_version: shown,
    rows: shown === 2 ? [first, second] : [first],
  };
}
