package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/store"
)

// tokenEnv holds the API token the commands that talk to a server send
// (an admin's, for quarry token against a server with access control).
// An environment variable, not a flag: a flag shows in the process list.
const tokenEnv = "QUARRY_TOKEN"

// withToken sets the request's Authorization from QUARRY_TOKEN, if set.
func withToken(req *http.Request) {
	if t := strings.TrimSpace(os.Getenv(tokenEnv)); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
}

// runToken creates, lists and revokes API tokens: in the data directory
// when no server holds it, else through the server holding it (or
// --server) as an admin (QUARRY_TOKEN), like quarry import.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"token takes a subcommand: create, list or revoke"}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("token "+sub, stderr)
	data := fs.String("data", "./quarry-data", "data directory (when no server holds it)")
	server := fs.String("server", "", "URL of a running server (send an admin token in $"+tokenEnv+")")
	var name, role, expires *string
	asJSON := new(bool)
	switch sub {
	case "create":
		name = fs.String("name", "", "the token's name, e.g. airflow-prod (what history records as the actor)")
		role = fs.String("role", "", "viewer, editor, ingest or admin")
		expires = fs.String("expires", "", "lifetime, e.g. 90d or 12h (default: until revoked)")
	case "list":
		asJSON = fs.Bool("json", false, "print the tokens as JSON")
	case "revoke":
	default:
		return usageError{fmt.Sprintf("unknown token subcommand %q: want create, list or revoke", sub)}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case sub == "revoke" && fs.NArg() != 1:
		return usageError{"token revoke takes the token's name"}
	case sub != "revoke" && fs.NArg() > 0:
		return usageError{fmt.Sprintf("token %s takes no arguments, got %q", sub, fs.Args())}
	case sub == "create" && (*name == "" || *role == ""):
		return usageError{"token create needs --name and --role"}
	}
	var ttl time.Duration
	if sub == "create" {
		if _, err := auth.ParseRole(*role); err != nil {
			return fmt.Errorf("--role: %s", quarry.ErrorMessage(err))
		}
		if *expires != "" {
			d, err := auth.ParseTTL(*expires)
			if err != nil {
				return fmt.Errorf("--expires: %s", quarry.ErrorMessage(err))
			}
			ttl = d
		}
	}

	var c tokenClient
	if *server == "" {
		if sub == "create" {
			if err := os.MkdirAll(*data, 0o700); err != nil {
				return err
			}
		}
		st, err := store.Open(filepath.Join(*data, storeFile), &store.Options{Timeout: 200 * time.Millisecond, Logger: newLogger(LogConfig{Level: "warn", Format: "text"}, stderr)})
		if err == nil {
			defer st.Close()
			toks, err := auth.NewTokens(ctx, st, nil)
			if err != nil {
				return err
			}
			c = localTokens{toks}
			ctx = quarry.WithActor(ctx, "cli:"+*data)
		} else {
			addr, infoErr := runningServer(*data)
			if infoErr != nil {
				return fmt.Errorf("%v; %v", err, infoErr)
			}
			*server = addr
		}
	}
	if c == nil {
		c = remoteTokens{url: strings.TrimRight(*server, "/") + "/graphql"}
	}

	switch sub {
	case "create":
		secret, t, err := c.create(ctx, *name, auth.Role(*role), *expires, ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %q created with role %s%s; it is shown this once:\n", t.Name, t.Role, expiry(t))
		fmt.Fprintln(stdout, secret)
	case "revoke":
		t, err := c.revoke(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %q revoked at %s\n", t.Name, t.RevokedAt.Format(time.RFC3339))
	case "list":
		all, err := c.list(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(all)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tSTATE")
		now := time.Now()
		for _, t := range all {
			state := "active"
			switch {
			case t.RevokedAt != nil:
				state = "revoked"
			case !t.Active(now):
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\tqry_%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.Prefix, day(&t.CreatedAt), day(t.ExpiresAt), day(t.LastUsedAt), state)
		}
		return tw.Flush()
	}
	return nil
}

func expiry(t *quarry.Token) string {
	if t.ExpiresAt == nil {
		return ""
	}
	return ", expiring " + t.ExpiresAt.Format(time.RFC3339)
}

func day(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// tokenClient is the token operations, on a data directory or a server.
type tokenClient interface {
	create(ctx context.Context, name string, role auth.Role, expires string, ttl time.Duration) (string, *quarry.Token, error)
	revoke(ctx context.Context, name string) (*quarry.Token, error)
	list(ctx context.Context) ([]quarry.Token, error)
}

type localTokens struct{ t *auth.Tokens }

func (l localTokens) create(ctx context.Context, name string, role auth.Role, _ string, ttl time.Duration) (string, *quarry.Token, error) {
	return l.t.Create(ctx, name, role, ttl)
}
func (l localTokens) revoke(ctx context.Context, name string) (*quarry.Token, error) {
	return l.t.Revoke(ctx, name)
}
func (l localTokens) list(ctx context.Context) ([]quarry.Token, error) { return l.t.List(ctx) }

type remoteTokens struct{ url string }

const tokenFields = `name role prefix createdAt createdBy expiresAt revokedAt lastUsedAt`

// gqlToken is a token as the GraphQL answer spells it.
type gqlToken struct {
	quarry.Token
	Role string `json:"role"`
}

func (g gqlToken) token() quarry.Token {
	t := g.Token
	t.Role = strings.ToLower(g.Role)
	return t
}

func (r remoteTokens) create(ctx context.Context, name string, role auth.Role, expires string, _ time.Duration) (string, *quarry.Token, error) {
	in := map[string]any{"name": name, "role": strings.ToUpper(string(role))}
	if expires != "" {
		in["expires"] = expires
	}
	var out struct {
		CreateAPIToken struct {
			Secret string   `json:"secret"`
			Token  gqlToken `json:"token"`
		} `json:"createApiToken"`
	}
	err := r.do(ctx, `mutation($in: CreateApiTokenInput!) { createApiToken(input: $in) { secret token { `+tokenFields+` } } }`, map[string]any{"in": in}, &out)
	if err != nil {
		return "", nil, err
	}
	t := out.CreateAPIToken.Token.token()
	return out.CreateAPIToken.Secret, &t, nil
}

func (r remoteTokens) revoke(ctx context.Context, name string) (*quarry.Token, error) {
	var out struct {
		RevokeAPIToken gqlToken `json:"revokeApiToken"`
	}
	if err := r.do(ctx, `mutation($n: String!) { revokeApiToken(name: $n) { `+tokenFields+` } }`, map[string]any{"n": name}, &out); err != nil {
		return nil, err
	}
	t := out.RevokeAPIToken.token()
	return &t, nil
}

func (r remoteTokens) list(ctx context.Context) ([]quarry.Token, error) {
	var out struct {
		APITokens []gqlToken `json:"apiTokens"`
	}
	if err := r.do(ctx, `{ apiTokens { `+tokenFields+` } }`, nil, &out); err != nil {
		return nil, err
	}
	all := make([]quarry.Token, len(out.APITokens))
	for i, g := range out.APITokens {
		all[i] = g.token()
	}
	return all, nil
}

func (r remoteTokens) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	withToken(req)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ans struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&ans); err != nil {
		return fmt.Errorf("%s: %s: %w", r.url, resp.Status, err)
	}
	if len(ans.Errors) > 0 {
		msg := ans.Errors[0].Message
		if resp.StatusCode == http.StatusUnauthorized {
			msg += " (set $" + tokenEnv + " to an admin token)"
		}
		return fmt.Errorf("%s: %s", r.url, msg)
	}
	return json.Unmarshal(ans.Data, out)
}
