package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileEnv names a file to write a CPU profile of the whole process to,
// from start to exit. It is the load benchmark's way to see where a
// server's time goes under load (bench/cmd/loadbench -profile) without
// opening a pprof endpoint on the server's listener. Operators leave it
// unset.
const profileEnv = "USER_REGISTRY_CPUPROFILE"

// startCPUProfile starts profiling when profileEnv is set and returns the
// function that stops it and flushes the file (a no-op otherwise). A file
// that cannot be created is reported and the process runs unprofiled.
func startCPUProfile(lookupEnv func(string) (string, bool)) (stop func()) {
	path, ok := lookupEnv(profileEnv)
	if !ok || path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "user-registry: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "user-registry: cpu profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
