package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
	scenarios     map[string]bool
	serverEnv     []string // added to our server's environment (-server-env)
	profileDir    string   // -profile: CPU profiles of our server nodes go here
}

// want reports whether scenario was selected with -scenarios.
func (o options) want(scenario string) bool { return o.scenarios[scenario] }

// allScenarios, in the order they run.
const allScenarios = "tokens,machine,dpop,jwks,discovery,login,audit,me,domains,twonode"

func main() {
	var o options
	var backends, static, scenarios, serverEnv string
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "length of each measured run (tokens, jwks, discovery, me, twonode)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured run before each target's first round (0 = none)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds for the ours-vs-peer comparisons; the median is reported")
	flag.IntVar(&o.workers, "workers", 64, "concurrent requests (= connections) in the closed loop")
	flag.DurationVar(&o.loginDuration, "login-duration", 4*time.Second, "length of the POST /login run (argon2 is slow by design)")
	flag.IntVar(&o.loginWorkers, "login-workers", 4, "concurrent requests for POST /login")
	flag.StringVar(&backends, "backends", "embedded,redis", "comma-separated: embedded, redis")
	flag.StringVar(&o.mysqlURL, "mysql", "mysql://root@127.0.0.1:3306/ur_bench", "MySQL of the redis backend (the database is dropped and recreated)")
	flag.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/5", "Redis of the redis backend (this DB is flushed; DB 0 refused)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp dir (binaries, server logs)")
	flag.StringVar(&scenarios, "scenarios", allScenarios, "comma-separated subset to run (twonode needs the redis backend)")
	flag.StringVar(&serverEnv, "server-env", "", "space-separated NAME=VALUE added to our server's environment, e.g. \"GOGC=100 GOMEMLIMIT=1GiB\"")
	flag.StringVar(&o.profileDir, "profile", "", "write a CPU profile of each of our server nodes into this directory (go tool pprof -top)")
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
	o.serverEnv = strings.Fields(serverEnv)
	o.scenarios = map[string]bool{}
	for _, sc := range strings.Split(scenarios, ",") {
		if sc = strings.TrimSpace(sc); !strings.Contains(","+allScenarios+",", ","+sc+",") {
			fmt.Fprintf(os.Stderr, "loadbench: unknown scenario %q (want some of %s)\n", sc, allScenarios)
			os.Exit(2)
		}
		o.scenarios[sc] = true
	}
	if o.profileDir != "" {
		abs, err := filepath.Abs(o.profileDir)
		if err == nil {
			err = os.MkdirAll(abs, 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadbench: -profile:", err)
			os.Exit(2)
		}
		o.profileDir = abs
	}
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
	printSummary(os.Stdout, o, reports)
	if o.profileDir != "" {
		fmt.Printf("\nCPU profiles of our server nodes: %s/*.prof (go tool pprof -top FILE)\n", o.profileDir)
	}
	return ctx.Err()
}
