package runner

import "sync/atomic"

// runSeq is the one process-wide counter behind run ids: two runners with the
// same name and slot still get distinct ids.
var runSeq atomic.Uint64

func nextRunSeq() uint64 { return runSeq.Add(1) }
