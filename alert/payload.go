package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// Payload is the body sent to a webhook of the format given
// (quarry.WebhookSlack or quarry.WebhookJSON) for an event: Slack's
// incoming-webhook message, or the event itself as JSON.
func Payload(format string, ev *quarry.AlertEvent) ([]byte, error) {
	if format == quarry.WebhookSlack {
		return json.Marshal(slackEvent(ev))
	}
	return json.Marshal(ev)
}

// slackMessage is a Slack incoming-webhook message: a plain-text fallback
// and one section block with the details. Fields are in the order of their
// JSON names: the message used to be a map, which encoding/json writes in
// key order, and receivers keep getting the same bytes.
type slackMessage struct {
	Blocks []slackBlock `json:"blocks"`
	Text   string       `json:"text"`
}

type slackBlock struct {
	Text slackText `json:"text"`
	Type string    `json:"type"` // "section"
}

type slackText struct {
	Text string `json:"text"`
	Type string `json:"type"` // "mrkdwn"
}

func newSlackMessage(title, detail string) slackMessage {
	return slackMessage{
		Blocks: []slackBlock{{Type: "section", Text: slackText{Type: "mrkdwn", Text: title + "\n" + detail}}},
		Text:   title,
	}
}

// slackTitle is the line that says what happened to an alert.
func slackTitle(ev *quarry.AlertEvent) string {
	a := &ev.Alert
	icon := ":warning:"
	switch {
	case ev.Transition == quarry.AlertResolved:
		icon = ":white_check_mark:"
	case a.Level == quarry.LevelError:
		icon = ":red_circle:"
	}
	title := fmt.Sprintf("%s %s %s: %s", icon, strings.ToLower(string(ev.Transition)), strings.ToLower(string(a.Kind)), a.Dataset)
	if a.Kind == quarry.AlertCheck {
		title += " " + checkLabel(a.Column, a.Check)
	}
	return title
}

// slackEvent formats an alert event.
func slackEvent(ev *quarry.AlertEvent) slackMessage {
	a := &ev.Alert
	detail := fmt.Sprintf("*%s* · %s · %s\n%s", a.Level, a.Status, a.Namespace, a.Message)
	if ev.Transition == quarry.AlertResolved {
		detail = fmt.Sprintf("resolved after %s", quarry.FormatDuration(ev.At.Sub(a.OpenedAt).Truncate(time.Second)))
	}
	return newSlackMessage(slackTitle(ev), detail)
}

// DigestPayload is the body sent to a Slack webhook for many events due
// at once: one message that says how many of each transition, and the
// first lines of them.
func DigestPayload(events []quarry.AlertEvent) ([]byte, error) {
	return json.Marshal(slackDigest(events))
}

func slackDigest(events []quarry.AlertEvent) slackMessage {
	const shown = 15
	counts := map[quarry.AlertTransition]int{}
	var lines []string
	for i := range events {
		ev := &events[i]
		counts[ev.Transition]++
		if len(lines) < shown {
			line := slackTitle(ev)
			if ev.Alert.Namespace != "" {
				line += " (" + ev.Alert.Namespace + ")"
			}
			lines = append(lines, "• "+line)
		}
	}
	var parts []string
	for _, t := range []quarry.AlertTransition{quarry.AlertOpened, quarry.AlertEscalated, quarry.AlertResolved} {
		if counts[t] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[t], strings.ToLower(string(t))))
		}
	}
	title := fmt.Sprintf(":bell: %d alert events: %s", len(events), strings.Join(parts, ", "))
	if more := len(events) - len(lines); more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more (quarry alerts, or the Alerts page)", more))
	}
	return newSlackMessage(title, strings.Join(lines, "\n"))
}

func checkLabel(column, name string) string {
	if column == "" {
		return name
	}
	return column + "." + name
}
