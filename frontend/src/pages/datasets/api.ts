// The datasets' reads and writes, typed, over the shared client and hooks. Every
// change of rows answers the dataset at its new version.
import type { components } from "../../api/schema";
import type { Paginated } from "../../api/types";
import { useApi, useApiMutation, type MutationCallbacks } from "../../api/useApi";

type Schemas = components["schemas"];

export type Dataset = Schemas["Dataset"];
export type DatasetDetail = Schemas["DatasetDetail"];
export type DatasetRow = Schemas["DatasetRow"];
export type DatasetVersion = Schemas["DatasetVersion"];
export type NewDatasetBody = Schemas["NewDatasetRequest"];
export type AddDatasetRowsBody = Schemas["AddDatasetRowsRequest"];
export type RemoveDatasetRowsBody = Schemas["RemoveDatasetRowsRequest"];

const q = encodeURIComponent;
const datasetsPath = "/playground/datasets";

export function datasetPath(id: string): string {
  return `${datasetsPath}/${id}`;
}

export function useDatasets(workflow: string | null = null) {
  const filter = workflow ? `&workflow=${q(workflow)}` : "";
  return useApi<Paginated<Dataset>>(`${datasetsPath}?limit=200${filter}`);
}

/** The dataset with its versions, and the rows of `version` (null: the newest). */
export function useDataset(id: string | undefined, version: number | null) {
  const query = version === null ? "" : `?version=${version}`;
  return useApi<DatasetDetail>(id ? `${datasetPath(id)}${query}` : null);
}

export function useCreateDataset(callbacks: MutationCallbacks<DatasetDetail> = {}) {
  return useApiMutation<NewDatasetBody, DatasetDetail>("POST", datasetsPath, {
    invalidates: [datasetsPath],
    ...callbacks,
  });
}

/** Adds rows from runs, a filter, a comparison or as given: a new version. */
export function useAddRows(id: string, callbacks: MutationCallbacks<DatasetDetail> = {}) {
  return useApiMutation<AddDatasetRowsBody, DatasetDetail>("POST", `${datasetPath(id)}/rows`, {
    invalidates: [datasetsPath],
    ...callbacks,
  });
}

export function useRemoveRows(id: string, callbacks: MutationCallbacks<DatasetDetail> = {}) {
  return useApiMutation<RemoveDatasetRowsBody, DatasetDetail>(
    "POST",
    `${datasetPath(id)}/rows/remove`,
    {
      invalidates: [datasetsPath],
      ...callbacks,
    },
  );
}

/** Uploads a JSONL or CSV file as the multipart field `file`. */
export function useUploadRows(id: string, callbacks: MutationCallbacks<DatasetDetail> = {}) {
  return useApiMutation<FormData, DatasetDetail>("POST", `${datasetPath(id)}/upload`, {
    invalidates: [datasetsPath],
    ...callbacks,
  });
}

export type EditDatasetBody = Schemas["EditDatasetRequest"];

export function useEditDataset(id: string, callbacks: MutationCallbacks<DatasetDetail> = {}) {
  return useApiMutation<EditDatasetBody, DatasetDetail>("PATCH", datasetPath(id), {
    invalidates: [datasetsPath],
    ...callbacks,
  });
}

export function useDeleteDataset(id: string, callbacks: MutationCallbacks<void> = {}) {
  return useApiMutation<undefined, void>("DELETE", datasetPath(id), {
    invalidates: [datasetsPath],
    ...callbacks,
  });
}

/** Where the browser downloads a version as JSONL. */
export function exportUrl(id: string, version: number): string {
  return `/api/v1${datasetPath(id)}/export?version=${version}`;
}
