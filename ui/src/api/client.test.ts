import { describe, expect, test } from "vitest";
import type { QueryKey } from "@tanstack/react-query";
import { newQueryClient, operationName, queryKey } from "./client";
import { DatasetDocument, DatasetHistoryDocument, LineageDocument, SearchDocument, SourcesDocument, UpdateDatasetDocument } from "./generated";
import { editShows } from "../pages/dataset/useUpdateDataset";

test("operationName reads the document's operation", () => {
  expect(operationName(DatasetDocument)).toBe("Dataset");
  expect(operationName(UpdateDatasetDocument)).toBe("UpdateDataset");
  expect(operationName("\n  query  Search($q: String) { x }")).toBe("Search");
  expect(() => operationName("{ datasets { id } }")).toThrow();
});

describe("query keys", () => {
  const keys: Record<string, QueryKey> = {
    datasetA: queryKey(DatasetDocument, { id: "a" }),
    datasetB: queryKey(DatasetDocument, { id: "b" }),
    historyA: queryKey(DatasetHistoryDocument, { id: "a" }),
    search: queryKey(SearchDocument, { query: "x", filter: {}, first: 20, after: null }),
    searchViews: queryKey(SearchDocument, { query: "", filter: { kind: ["VIEW"] }, first: 20, after: "20" }),
    lineageA: queryKey(LineageDocument, { nodeId: "a", direction: "BOTH", depth: 2, columnLevel: false }),
    sources: queryKey(SourcesDocument, {}),
  };

  // invalidated fills a real cache with answers under keys, invalidates
  // prefixes and names the answers that became stale.
  async function invalidated(prefixes: QueryKey[]) {
    const client = newQueryClient();
    for (const key of Object.values(keys)) client.setQueryData(key, {});
    for (const key of prefixes) await client.invalidateQueries({ queryKey: key });
    return Object.entries(keys)
      .filter(([, key]) => client.getQueryState(key)?.isInvalidated)
      .map(([name]) => name);
  }

  test("are the same for the same variables in another order", () => {
    const client = newQueryClient();
    client.setQueryData(keys.search, { hit: 1 });
    expect(client.getQueryData(queryKey(SearchDocument, { after: null, first: 20, filter: {}, query: "x" }))).toEqual({ hit: 1 });
  });

  test("of a dataset edit mark that dataset, its history and every search stale, nothing else", async () => {
    expect(await invalidated(editShows("a"))).toEqual(["datasetA", "historyA", "search", "searchViews"]);
  });

  test("without variables match all of an operation's answers and no other operation's", async () => {
    expect(await invalidated([queryKey(SourcesDocument)])).toEqual(["sources"]);
    expect(await invalidated([queryKey(DatasetDocument)])).toEqual(["datasetA", "datasetB"]);
  });
});
