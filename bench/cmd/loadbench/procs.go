package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// moduleRoot is where go.mod lives, so `go run ./bench/cmd/loadbench` works
// from any directory inside the checkout.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// build compiles one package of the module into dir and returns the binary.
// Building (rather than `go run`) keeps the compiler out of the measured
// process and gives us the real server pid for RSS sampling.
func build(ctx context.Context, root, pkg, dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// freePort asks the kernel for a free loopback port. The tiny window before
// the server binds it is acceptable here; a fixed port gives our server a
// meaningful --issuer (http://127.0.0.1:PORT rather than :0).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// proc is a server child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string // host:port it listens on
	log  string // path of its stderr log
	done chan struct{}
}

var servingRE = regexp.MustCompile(`msg=serving\b.*?\baddr=(\S+)`)

// startProc runs bin with args (and env added to ours), sends its stderr to logPath and waits (at
// most 60 s: a fresh MySQL schema migration can take a while) for the
// `msg=serving addr=…` line both our server and the helper servers print.
func startProc(ctx context.Context, name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...) // later entries win
	}
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	addrCh := make(chan string, 1)
	go func() {
		// Copy every line to the log file; report the first serving line.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case addrCh <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	select {
	case p.addr = <-addrCh:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before serving; log: %s\n%s", name, logPath, tail(logPath, 15))
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not print msg=serving within 60s; log: %s", name, logPath)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop asks for a graceful shutdown, then kills after 5 s. Only this child
// is signalled, by its own pid.
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Peak memory per scenario is the kernel's high-water mark of the
// resident set (VmHWM), reset before each run by writing 5 to
// /proc/<pid>/clear_refs (Linux >= 4.0; we own the child). Unlike sampling
// VmRSS it misses no short peak. When the reset is refused the figure is
// the peak since the process started, which is never lower.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// peakRSSMiB is VmHWM of pid in MiB (0 when unknown).
func peakRSSMiB(pid int) float64 { return float64(statusKiB(pid, "VmHWM:")) / 1024 }

// statusKiB reads one "Name:  123 kB" line of /proc/<pid>/status.
func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// procCPU is the user+system CPU time a process has used so far, from
// /proc/<pid>/stat. On a shared machine throughput moves with the other
// tenants' load, but CPU per request stays close to the code's own cost,
// so the report shows both. The unit is USER_HZ, 100 on Linux.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name (which may hold spaces):
	// state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}
