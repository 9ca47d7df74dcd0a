package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
)

func (s *Server) addResources() {
	s.srv.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "dataset",
		Title:       "A dataset's page",
		Description: "A dataset as get_dataset answers it: description, columns, owners, tags, freshness, health, upstream problems, deprecation, usage.",
		URITemplate: "quarry://dataset/{id}",
		MIMEType:    "application/json",
	}, s.readDataset)
}

func (s *Server) readDataset(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	if !may(ctx, auth.Viewer) {
		return nil, refusal(ctx, "reading a dataset", auth.Viewer)
	}
	raw, ok := strings.CutPrefix(uri, "quarry://dataset/")
	if !ok {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	id, err := quarry.ParseID("id", raw)
	if err != nil {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	d, err := s.o.Store.Dataset(ctx, id)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND {
		return nil, mcp.ResourceNotFoundError(uri)
	} else if err != nil {
		return nil, s.toolError(ctx, "dataset resource", err)
	}
	out, err := s.dataset(ctx, d, columnsDefault)
	if err != nil {
		return nil, s.toolError(ctx, "dataset resource", err)
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, s.toolError(ctx, "dataset resource", err)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(body)}}}, nil
}

func (s *Server) addPrompts() {
	s.srv.AddPrompt(&mcp.Prompt{
		Name:        "find_table",
		Title:       "Find a table for …",
		Description: "Find the table that holds what you need, check that it can be trusted today, and show how to query it.",
		Arguments:   []*mcp.PromptArgument{{Name: "need", Description: "what the table should hold, e.g. daily revenue by country", Required: true}},
	}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		need := strings.TrimSpace(req.Params.Arguments["need"])
		if need == "" {
			return nil, fmt.Errorf("need: say what the table should hold")
		}
		return prompt("Find a table for "+need, fmt.Sprintf(
			"I need a table that holds %s. Use Quarry's search_datasets to find candidates (try a few wordings), then get_dataset on the best "+
				"two or three. Recommend one: give its namespace and name, say whether it can be trusted today (its freshness, failing checks, "+
				"upstream problems, deprecation; if deprecated, its replacement), who owns it, and write an example SQL query over its columns "+
				"that answers the need.", need)), nil
	})
	s.srv.AddPrompt(&mcp.Prompt{
		Name:        "change_impact",
		Title:       "What breaks if I change …",
		Description: "What a change to a dataset or one of its columns would break downstream, and whom to tell.",
		Arguments: []*mcp.PromptArgument{
			{Name: "dataset", Description: "the dataset's qualified name, e.g. analytics.marts.fct_orders", Required: true},
			{Name: "column", Description: "the column to change, if one"},
		},
	}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		ds := strings.TrimSpace(req.Params.Arguments["dataset"])
		if ds == "" {
			return nil, fmt.Errorf("dataset: name the dataset to change")
		}
		what := ds
		if c := strings.TrimSpace(req.Params.Arguments["column"]); c != "" {
			what = "the column " + c + " of " + ds
		}
		return prompt("What breaks if I change "+what, fmt.Sprintf(
			"I want to change %s. Find the dataset with Quarry's search_datasets if you need its namespace, then call impact (with the column, "+
				"if one) and list what would break downstream, nearest first, with the columns affected. For the nearest ones, call get_dataset "+
				"to name their owners and the jobs that read them (get_lineage shows the path). End with whom to tell and what to check before "+
				"the change.", what)), nil
	})
}

func prompt(description, text string) *mcp.GetPromptResult {
	return &mcp.GetPromptResult{Description: description, Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: text}}}}
}
