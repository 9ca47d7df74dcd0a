// The one edit the UI makes to a dataset: its description and its columns'.
import type { QueryKey } from "@tanstack/react-query";
import { queryKey, useMutation } from "../../api/client";
import { DatasetDocument, DatasetHistoryDocument, SearchDocument, UpdateDatasetDocument } from "../../api/generated";

// editShows are the queries that show a dataset's metadata: the dataset, its
// history of edits, search results (whose index follows the edit).
export function editShows(id: string): QueryKey[] {
  return [queryKey(DatasetDocument, { id }), queryKey(DatasetHistoryDocument, { id }), queryKey(SearchDocument)];
}

// useUpdateDataset saves an edit of a dataset's metadata; what shows it is
// asked again.
export function useUpdateDataset() {
  return useMutation(UpdateDatasetDocument, { invalidates: ({ id }) => editShows(id) });
}
