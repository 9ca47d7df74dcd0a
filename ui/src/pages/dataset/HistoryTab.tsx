// History: schema changes and people's metadata edits as one timeline.
import { useQuery } from "../../api/client";
import { DatasetHistoryDocument } from "../../api/generated";
import { Badge, Empty, ErrorBox, Loading, Time } from "../../components/ui";
import { absoluteTime } from "../../format";

type Entry = { at: string; kind: string; subject: string | null; oldValue: string; newValue: string; actor?: string; edit: boolean };

export function HistoryTab({ id }: { id: string }) {
  const { data, error, isPending, refetch } = useQuery(DatasetHistoryDocument, { id });
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (isPending) return <Loading />;
  const d = data?.dataset;
  if (!d) return <Empty>Dataset not found.</Empty>;
  const entries: Entry[] = [
    ...d.history.map((h) => ({ at: h.at, kind: h.kind, subject: h.column, oldValue: h.oldValue, newValue: h.newValue, edit: false })),
    ...d.metadataHistory.map((m) => ({ at: m.at, kind: "EDITED", subject: m.field, oldValue: m.oldValue, newValue: m.newValue, actor: m.actor, edit: true })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  if (!entries.length) return <Empty>No schema change or edit recorded yet.</Empty>;
  return (
    <ol className="timeline timeline-big" aria-label="Schema changes and edits">
      {entries.map((e, i) => (
        <li key={i} className={e.edit ? "edit" : "change"}>
          <div className="timeline-when small muted" title={absoluteTime(e.at)}>
            <Time iso={e.at} />
          </div>
          <div>
            <Badge tone={/REMOVED/.test(e.kind) ? "error" : /ADDED|CREATED|RESTORED/.test(e.kind) ? "ok" : "info"}>
              {e.kind.toLowerCase().replace(/_/g, " ")}
            </Badge>{" "}
            {e.subject && <code>{e.subject}</code>} {e.actor && <span className="muted small">by {e.actor}</span>}
            {(e.oldValue || e.newValue) && (
              <div className="diff small">
                {e.oldValue && <del>{e.oldValue}</del>} {e.oldValue && e.newValue && "→"} {e.newValue && <ins>{e.newValue}</ins>}
              </div>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
