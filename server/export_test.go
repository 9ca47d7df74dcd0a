package server

import "context"

// DelayLineageLoadForTest has the server's lineage graph wait for hook
// before it loads (hook gets the loop's context); set it between Open and
// Start.
func DelayLineageLoadForTest(s *Server, hook func(context.Context)) { s.beforeLineageLoad = hook }
