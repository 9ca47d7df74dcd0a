package quarry

import "time"

// Token is an API token as stored: its name, role and the SHA-256 of its
// secret, never the secret itself. A tool sends "qry_<Prefix>_<secret>" as a
// Bearer token; Prefix finds the record and the hash checks the secret.
type Token struct {
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       []byte     `json:"hash"` // SHA-256 of the secret (256 random bits: no key stretching needed)
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"createdAt"`
	CreatedBy  string     `json:"createdBy,omitempty"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// Active reports whether the token may authenticate at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// AuditEntry is one admin action: who did what to what, when. Detail never
// holds a secret (a DSN, a token, a webhook URL).
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // e.g. "registerSource", "token.create", "POST /api/v1/admin/reindex"
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
}
