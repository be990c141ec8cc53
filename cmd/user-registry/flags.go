package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// envPrefix names the environment variable of every flag:
// --key-secret ↔ USER_REGISTRY_KEY_SECRET.
const envPrefix = "USER_REGISTRY_"

// errUsage is a bad command line; the message has already been printed.
var errUsage = errors.New("usage error")

// stringList is a repeatable flag. From the environment it takes a comma
// separated list.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (`domains block --db sqlite:x.db evil.com`), then
// fills every flag not given on the command line from its environment
// variable: flags win over the environment. Returns flag.ErrHelp for
// --help, after printing the usage to out.
func parseArgs(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool), out io.Writer, usage string) ([]string, error) {
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, usage)
		fmt.Fprintln(out, "\nFlags (each also read from USER_REGISTRY_<FLAG>, dashes as underscores):")
		fs.PrintDefaults()
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || envErr != nil {
			return
		}
		v, ok := lookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if list, isList := f.Value.(*stringList); isList {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					_ = list.Set(item)
				}
			}
			return
		}
		if err := f.Value.Set(v); err != nil {
			// The value is not echoed: it may be a secret.
			envErr = fmt.Errorf("invalid value in %s: %v", envName(f.Name), errorWithoutValue(err))
		}
	})
	return positional, envErr
}

// errorWithoutValue drops the flag package's quoting of the bad value.
func errorWithoutValue(err error) string {
	if i := strings.LastIndex(err.Error(), ": "); i >= 0 {
		return err.Error()[i+2:]
	}
	return "bad value"
}
