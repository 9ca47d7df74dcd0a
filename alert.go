package quarry

import (
	"net/url"
	"time"
)

// Freshness is a dataset's freshness at one moment: its status against the
// policy that applies (set on it, a config default, or learned from its
// history), and when it is due.
type Freshness struct {
	Status        FreshnessStatus
	Origin        FreshnessPolicyOrigin // empty when no policy applies
	Policy        *FreshnessPolicy
	LastUpdatedAt *time.Time
	ExpectedBy    *time.Time // LastUpdatedAt plus the policy's first threshold
}

// Inferred reports whether the policy was learned from the history.
func (f *Freshness) Inferred() bool { return f.Origin == OriginInferred }

// FreshnessPolicyOrigin says where the freshness policy that applies comes from.
type FreshnessPolicyOrigin string

const (
	OriginSet      FreshnessPolicyOrigin = "SET"
	OriginDefault  FreshnessPolicyOrigin = "DEFAULT"
	OriginInferred FreshnessPolicyOrigin = "INFERRED"
)

// EvaluateFreshness computes ds's freshness at now. The policy set on the
// dataset wins; then the one its dbt source declares; then the first config default that matches; then the one
// inferred from its history (InferPolicy), which infer returns (nil when
// there is none); it is only called when needed, so it may load it.
func EvaluateFreshness(ds *Dataset, set *FreshnessPolicy, defaults []PolicyDefault, infer func() (*FreshnessPolicy, error), now time.Time) (Freshness, error) {
	f := Freshness{Status: FreshnessUnknown, LastUpdatedAt: ds.LastUpdatedAt}
	switch {
	case set != nil:
		f.Policy, f.Origin = set, OriginSet
	case ds.DBT != nil && ds.DBT.Freshness != nil:
		p := *ds.DBT.Freshness
		f.Policy, f.Origin = &p, OriginDBTPolicy
	default:
		if p, ok := DefaultPolicy(defaults, ds); ok {
			f.Policy, f.Origin = p, OriginDefault
		} else if ds.LastUpdatedAt != nil && infer != nil {
			p, err := infer()
			if err != nil {
				return f, err
			}
			if p != nil {
				f.Policy, f.Origin = p, OriginInferred
			}
		}
	}
	if f.Policy == nil {
		return f, nil
	}
	f.Status = f.Policy.Status(ds.LastUpdatedAt, now)
	if ds.LastUpdatedAt != nil {
		first := f.Policy.WarnAfter
		if first == 0 {
			first = f.Policy.ErrorAfter
		}
		by := ds.LastUpdatedAt.Add(first)
		f.ExpectedBy = &by
	}
	return f, nil
}

// DatasetStatus is a dataset's freshness and check status as the alert
// evaluator last saw them; empty fields are unknown (no policy applies or
// no update was seen; no checks).
type DatasetStatus struct {
	Freshness FreshnessStatus `json:"freshness,omitempty"` // FRESH, WARN or ERROR
	Health    CheckStatus     `json:"health,omitempty"`    // the worst latest check result
}

// Alerts. An evaluator pass looks at every dataset's freshness and at the
// latest result of every check: a dataset at WARN or ERROR freshness, and a
// check whose latest result is WARN, FAIL or ERROR, each have an open
// alert. Alerts are identified by what they are about (the dataset, or the
// dataset's check), so one condition is one alert however long it lasts;
// its transitions (opened, escalated, de-escalated, resolved) are kept as
// its history and sent to webhooks.

// AlertKind says what an alert is about.
type AlertKind string

const (
	AlertFreshness AlertKind = "FRESHNESS"
	AlertCheck     AlertKind = "CHECK"
)

// AlertLevel is how bad an open alert is: WARN (a freshness warning, a
// check at WARN) or ERROR (late past errorAfter, a check that FAILs or
// cannot run).
type AlertLevel string

const (
	LevelWarn  AlertLevel = "WARN"
	LevelError AlertLevel = "ERROR"
)

// Rank orders levels: an ERROR is worse than a WARN.
func (l AlertLevel) Rank() int {
	switch l {
	case LevelError:
		return 2
	case LevelWarn:
		return 1
	}
	return 0
}

// AlertTransition is one change of an alert.
type AlertTransition string

const (
	AlertOpened      AlertTransition = "OPENED"
	AlertEscalated   AlertTransition = "ESCALATED"   // WARN to ERROR
	AlertDeescalated AlertTransition = "DEESCALATED" // ERROR to WARN
	AlertResolved    AlertTransition = "RESOLVED"
)

// Notifies reports whether webhooks hear of the transition: opened,
// escalated and resolved do; a de-escalation waits for the resolution.
func (t AlertTransition) Notifies() bool { return t != AlertDeescalated }

// Alert is one condition a data engineer should know about, open or last
// resolved.
type Alert struct {
	Key       string     `json:"key"`
	Kind      AlertKind  `json:"kind"`
	DatasetID string     `json:"datasetId"`
	Namespace string     `json:"namespace"` // the dataset's, for messages
	Dataset   string     `json:"dataset"`   // its qualified name
	Column    string     `json:"column,omitempty"`
	Check     string     `json:"check,omitempty"`
	Level     AlertLevel `json:"level"`
	// Status is the freshness status (WARN, ERROR) or the check's latest
	// result (WARN, FAIL, ERROR) that holds the alert open; RESOLVED when
	// it no longer holds.
	Status     string     `json:"status"`
	Message    string     `json:"message"`
	OpenedAt   time.Time  `json:"openedAt"`
	ChangedAt  time.Time  `json:"changedAt"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`

	// Freshness alerts.
	LastUpdatedAt *time.Time `json:"lastUpdatedAt,omitempty"`
	ExpectedBy    *time.Time `json:"expectedBy,omitempty"`
	Inferred      bool       `json:"inferred,omitempty"`
}

// Open reports whether the alert is open.
func (a *Alert) Open() bool { return a.ResolvedAt == nil }

// FreshnessAlertKey and CheckAlertKey identify alerts.
func FreshnessAlertKey(datasetID string) string { return "freshness/" + datasetID }

// CheckAlertKey escapes the column and the check name, which may hold a
// '/': column "a/b" check "c" and column "a" check "b/c" are two alerts.
func CheckAlertKey(datasetID, column, name string) string {
	return CheckAlertsPrefix(datasetID) + url.PathEscape(column) + "/" + url.PathEscape(name)
}

// CheckAlertsPrefix starts the keys of a dataset's check alerts.
func CheckAlertsPrefix(datasetID string) string { return "check/" + datasetID + "/" }

// AlertEvent is one transition of an alert, as kept in its history and
// sent to webhooks.
type AlertEvent struct {
	Seq        uint64          `json:"seq"`
	Transition AlertTransition `json:"transition"`
	At         time.Time       `json:"at"`
	Alert      Alert           `json:"alert"` // as it was after the transition
}

// DeliveryStatus is where sending one alert event to one webhook stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "PENDING" // not sent yet, or being retried
	DeliveryDelivered DeliveryStatus = "DELIVERED"
	DeliveryFailed    DeliveryStatus = "FAILED" // retries exhausted
)

// Delivery is the state of the latest event of an alert sent to one webhook.
type Delivery struct {
	Webhook    string          `json:"webhook"`
	Seq        uint64          `json:"seq"` // the AlertEvent sent
	Transition AlertTransition `json:"transition"`
	Status     DeliveryStatus  `json:"status"`
	Attempts   int             `json:"attempts"`
	LastError  string          `json:"lastError,omitempty"`
	At         time.Time       `json:"at"` // of the last attempt, or when queued
	NextAt     time.Time       `json:"nextAt,omitzero"`
}

// PendingDelivery is an alert event due to be sent to a webhook: an entry
// of the outbox the evaluator fills.
type PendingDelivery struct {
	ID       uint64 // its outbox entry
	Webhook  string
	Event    AlertEvent
	Attempts int // made so far
}

// Webhook formats.
const (
	WebhookSlack = "slack" // Slack's incoming-webhook message
	WebhookJSON  = "json"  // the AlertEvent as JSON
)

// Webhook is where alert events are sent.
type Webhook struct {
	Name   string // shown in delivery statuses; the URL may hold a secret
	URL    string
	Format string
}

// Validate checks a webhook; errors name the field.
func (w *Webhook) Validate() error {
	if w.Name == "" {
		return Invalid("name", "is empty")
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid("url", "want an http or https URL")
	}
	switch w.Format {
	case WebhookSlack, WebhookJSON:
	default:
		return Invalid("format", "%q is not a webhook format; want slack or json", Truncate(w.Format, 32))
	}
	return nil
}
