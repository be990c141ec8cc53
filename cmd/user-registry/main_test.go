package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the user-registry binary built once for the black-box tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ur-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "user-registry")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs one command to completion and returns stdout, stderr and the
// exit code. The environment is empty but for extra, so the developer's
// USER_REGISTRY_* variables do not leak in.
func cli(t *testing.T, extraEnv []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extraEnv...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// servingRE finds the listen address in the text or JSON log line.
var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)|"msg":"serving","addr":"([^"]+)"`)

// server is a running `serve` process.
type server struct {
	base string
	cmd  *exec.Cmd
	stop func() // SIGTERM, wait; idempotent
	logs *syncBuffer
}

// syncBuffer collects the server's stderr from its reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) add(line string) {
	b.mu.Lock()
	b.buf.WriteString(line + "\n")
	b.mu.Unlock()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serve starts `serve` on a free port and returns its base URL; the server
// is stopped with SIGTERM at cleanup and must exit 0 (graceful shutdown).
func serve(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	return startServer(t, extraEnv, args...).base
}

func startServer(t *testing.T, extraEnv []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extraEnv...)
	cmd.Dir = t.TempDir()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	logs := &syncBuffer{}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			logs.add(sc.Text())
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				addr <- m[1] + m[2]
			}
		}
		close(addr)
	}()
	srv := &server{cmd: cmd, logs: logs}
	select {
	case a, ok := <-addr:
		if !ok {
			cmd.Wait()
			t.Fatalf("serve exited before listening:\n%s", logs.String())
		}
		srv.base = "http://" + a
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	var once sync.Once
	srv.stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { <-readerDone; done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve did not exit cleanly on SIGTERM: %v\n%s", err, logs.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Errorf("serve did not stop on SIGTERM")
			}
		})
	}
	t.Cleanup(srv.stop)
	return srv
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: not JSON: %s", url, body)
	}
	return resp.StatusCode, v
}
