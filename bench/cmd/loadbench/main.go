package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration      time.Duration
	warmup        time.Duration
	rounds        int
	workers       int
	loginDuration time.Duration
	loginWorkers  int
	backends      []string
	mysqlURL      string
	redisURL      string
	keep          bool
}

func main() {
	var o options
	var backends, static string
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of each measured run (tokens, jwks, me)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured run before each target's first round (0 = none)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds for the ours-vs-peer comparisons; the median is reported")
	flag.IntVar(&o.workers, "workers", 64, "concurrent requests (= connections) in the closed loop")
	flag.DurationVar(&o.loginDuration, "login-duration", 4*time.Second, "length of the POST /login run (argon2 is slow by design)")
	flag.IntVar(&o.loginWorkers, "login-workers", 4, "concurrent requests for POST /login")
	flag.StringVar(&backends, "backends", "embedded,redis", "comma-separated: embedded, redis")
	flag.StringVar(&o.mysqlURL, "mysql", "mysql://root@127.0.0.1:3306/ur_bench", "MySQL of the redis backend (the database is dropped and recreated)")
	flag.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/5", "Redis of the redis backend (this DB is flushed; DB 0 refused)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp dir (binaries, server logs)")
	flag.StringVar(&static, "serve-static", "", "internal: serve a recorded response (the plain JWKS peer)")
	flag.Parse()

	if static != "" {
		if err := serveStatic(static); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench static:", err)
			os.Exit(1)
		}
		return
	}
	o.backends = strings.Split(backends, ",")
	if o.rounds < 1 || o.rounds > 20 || o.workers < 1 || o.workers > 1024 || o.loginWorkers < 1 ||
		o.duration <= 0 || o.duration > 10*time.Minute || o.loginDuration <= 0 || o.loginDuration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "loadbench: flag out of range (rounds 1..20, workers 1..1024, durations (0, 10m])")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("temp dir kept:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("loadbench: %s, %d CPUs (load generator shares them), %s/run, %d rounds, %d workers\n",
		runtime.Version(), runtime.NumCPU(), o.duration, o.rounds, o.workers)
	fmt.Println("building ./cmd/user-registry and ./bench/cmd/stockserver ...")
	var b bins
	if b.ours, err = build(ctx, root, "./cmd/user-registry", tmp, "user-registry"); err != nil {
		return err
	}
	if b.stock, err = build(ctx, root, "./bench/cmd/stockserver", tmp, "stockserver"); err != nil {
		return err
	}
	if b.self, err = os.Executable(); err != nil {
		return err
	}

	var reports []*backendReport
	for _, name := range o.backends {
		if ctx.Err() != nil {
			break
		}
		rep := runBackend(ctx, o, b, tmp, strings.TrimSpace(name))
		printTable(os.Stdout, rep)
		reports = append(reports, rep)
	}
	fmt.Println("\n== summary ==")
	for _, rep := range reports {
		if rep.Note != "" {
			fmt.Printf("%s: skipped: %s\n", rep.Name, rep.Note)
			continue
		}
		printGoals(os.Stdout, rep)
	}
	return ctx.Err()
}
