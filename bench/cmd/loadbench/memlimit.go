package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// memLimit is the memory policy our server runs with, as it reports it on
// /metrics (the Go collector's go_gc_gomemlimit_bytes and
// go_gc_gogc_percent): the rule of cmd/user-registry/memory.go, or what
// GOMEMLIMIT/GOGC in its environment set instead. Reading it from the
// server, not recomputing it, checks the peak RSS against the limit that
// was really applied.
type memLimit struct {
	Bytes int64 // 0: unknown; math.MaxInt64: none
	GOGC  int   // -1: off
}

func (m memLimit) MiB() float64 { return float64(m.Bytes) / (1 << 20) }

func (m memLimit) String() string {
	switch {
	case m.Bytes <= 0:
		return "unknown"
	case m.Bytes == math.MaxInt64:
		return fmt.Sprintf("none (GOGC=%d)", m.GOGC)
	}
	return fmt.Sprintf("%.0f MiB (GOGC=%d)", m.MiB(), m.GOGC)
}

func serverMemLimit(ctx context.Context, base string) memLimit {
	code, _, body, err := do(ctx, http.MethodGet, base+"/metrics", nil, nil)
	if err != nil || code != http.StatusOK {
		return memLimit{}
	}
	var m memLimit
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_gc_gomemlimit_bytes":
			m.Bytes = math.MaxInt64 // "no limit" is MaxInt64, which float64 rounds up
			if f < math.MaxInt64 {
				m.Bytes = int64(f)
			}
		case "go_gc_gogc_percent":
			m.GOGC = int(f)
		}
	}
	return m
}
