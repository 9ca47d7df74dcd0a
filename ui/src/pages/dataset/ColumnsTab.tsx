// Columns with their types, keys and descriptions; descriptions are edited
// in place, one column at a time.
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { Badge, Empty, ErrorBox, Markdown } from "../../components/ui";
import type { DatasetT } from "../DatasetPage";
import { useUpdateDataset } from "./useUpdateDataset";
import { useAllows } from "../../auth";

export function ColumnsTab({ d }: { d: DatasetT }) {
  const [filter, setFilter] = useState("");
  const f = filter.trim().toLowerCase();
  const cols = d.columns.filter(
    (c) => !f || c.name.toLowerCase().includes(f) || c.description.toLowerCase().includes(f) || c.type.toLowerCase().includes(f),
  );
  if (!d.columns.length) return <Empty>No columns are known for this dataset.</Empty>;
  return (
    <div>
      <div className="toolbar">
        <input
          type="search"
          className="filter"
          placeholder="Filter columns"
          aria-label="Filter columns"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <span className="muted small">
          {cols.length} of {d.columns.length} columns
        </span>
      </div>
      <div className="table-wrap">
        <table className="table columns-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Null</th>
              <th scope="col">Keys</th>
              <th scope="col" className="wide">
                Description
              </th>
            </tr>
          </thead>
          <tbody>
            {cols.map((c) => (
              <tr key={c.name} data-testid="column-row">
                <td className="muted">{c.ordinal}</td>
                <th scope="row" className="mono">
                  {c.name}
                </th>
                <td className="mono small">{c.type || <span className="muted">?</span>}</td>
                <td>{c.nullable ? "yes" : <strong>no</strong>}</td>
                <td className="keys">
                  {c.primaryKey && <Badge tone="info">PK</Badge>}
                  {c.unique && !c.primaryKey && <Badge>unique</Badge>}
                  {c.foreignKey && (
                    <span className="small">
                      FK →{" "}
                      {c.foreignKey.dataset ? (
                        <Link to={`/datasets/${c.foreignKey.dataset.id}`}>
                          {c.foreignKey.name}.{c.foreignKey.column}
                        </Link>
                      ) : (
                        `${c.foreignKey.name}.${c.foreignKey.column}`
                      )}
                    </span>
                  )}
                </td>
                <td>
                  <ColumnDescription datasetId={d.id} name={c.name} description={c.description} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!cols.length && <Empty>No column matches “{filter}”.</Empty>}
    </div>
  );
}

function ColumnDescription(props: { datasetId: string; name: string; description: string }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(props.description);
  const save = useUpdateDataset();
  const mayEdit = useAllows("editor");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (editing) input.current?.focus();
  }, [editing]);
  // Editing starts from the description as it is now.
  const edit = () => {
    setText(props.description);
    save.reset();
    setEditing(true);
  };

  if (!editing) {
    return (
      <div className="col-desc">
        {props.description ? <Markdown source={props.description} className="markdown inline" /> : <span className="muted">–</span>}
        {mayEdit && (
          <button type="button" className="btn-icon" aria-label={`Edit the description of ${props.name}`} title="Edit" onClick={edit}>
            ✎
          </button>
        )}
      </div>
    );
  }
  const submit = () => {
    save.mutate({ id: props.datasetId, input: { columns: [{ name: props.name, description: text }] } }, { onSuccess: () => setEditing(false) });
  };
  return (
    <form
      className="col-desc-edit"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <input
        ref={input}
        value={text}
        aria-label={`Description of ${props.name}`}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => e.key === "Escape" && setEditing(false)}
      />
      <button type="submit" className="btn btn-small btn-primary" disabled={save.isPending}>
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => setEditing(false)}>
        Cancel
      </button>
      {save.error && <ErrorBox error={save.error} />}
    </form>
  );
}
