package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"user-registry/provider"
)

// TestPasswordWritesSurviveConcurrentUpdates is SEC-73 through HTTP: while
// the user's token loops /update (phone changes), a password change and a
// reset race each other. Whatever interleaving a race takes, the reset
// answered "Password updated", so its password is the one that logs in
// afterwards; the password before the race and the one the change set do
// not. A whole-record write back of a user read earlier (the /update, or a
// change whose check ran before the reset committed) breaks that.
//
// 50 races: 10 rounds of 5 accounts racing at once. The first login after
// a reset waits for the next whole second (provider.Accounts.LogoutAll),
// so accounts share that wait instead of queueing for it. Every race is
// checked to its end, so a failure says how many resets were lost.
func TestPasswordWritesSurviveConcurrentUpdates(t *testing.T) {
	const rounds, accounts, updaters = 10, 5, 2
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			noLoginLimit := func(_ *Config, a *provider.AccountsConfig) { a.LoginLimit = "0" }
			env := newMailEnv(t, b, "0", noLoginLimit)
			h := env.Handler
			addrs := make([]string, accounts)
			current := make([]string, accounts) // the password that logs in
			for i := range addrs {
				addrs[i] = fmt.Sprintf("race%d@example.com", i)
				current[i] = testPassword
				signup(t, h, addrs[i])
			}
			var phones atomic.Int64 // numbers /update sets: each call a new one
			updated, lost := 0, 0   // /update answers 202 (the race took place); lost resets
			for round := range rounds {
				jobs := make([]raceJob, accounts)
				changed := make([]string, accounts)
				reset := make([]string, accounts)
				for i, addr := range addrs {
					changed[i] = fmt.Sprintf("changed secret %d.%d zebra", round, i)
					reset[i] = fmt.Sprintf("reset secret %d.%d walrus", round, i)
					access, _ := login(t, h, addr, current[i])
					wantMessage(t, call(t, h, "POST", "/password/forgot", jsonBody(map[string]string{"email": addr})), 202, msgForgotSent)
					jobs[i] = raceJob{
						token:  access,
						change: jsonBody(map[string]string{"current_password": current[i], "new_password": changed[i]}),
						reset:  jsonBody(map[string]string{"token": env.token(t, addr, "/password/reset"), "password": reset[i]}),
					}
				}

				for i, res := range raceRound(h, jobs, updaters, &phones) {
					if res.reset.code != http.StatusOK || !strings.Contains(res.reset.body, msgPasswordUpdated) {
						t.Fatalf("round %d, %s: reset = %d %s", round, addrs[i], res.reset.code, res.reset.body)
					}
					// The change may lose to the reset: its current password
					// is then wrong (401), never a server error.
					if c := res.change.code; c != http.StatusOK && c != http.StatusUnauthorized {
						t.Fatalf("round %d, %s: change = %d %s", round, addrs[i], c, res.change.body)
					}
					for _, u := range res.updates {
						switch u.code {
						case http.StatusAccepted:
							updated++
						case http.StatusUnauthorized: // the token ended with the reset
						default:
							t.Fatalf("round %d, %s: /update = %d %s", round, addrs[i], u.code, u.body)
						}
					}

					works := workingPasswords(t, h, addrs[i], current[i], changed[i], reset[i])
					if len(works) != 1 || works[0] != reset[i] {
						lost++
						t.Errorf("round %d, %s (change answered %d): passwords that log in %q, want only the reset's %q",
							round, addrs[i], res.change.code, works, reset[i])
					}
					if len(works) == 0 {
						t.Fatalf("round %d, %s: no password logs in any more", round, addrs[i])
					}
					current[i] = works[0]
				}
			}
			if updated == 0 {
				t.Fatal("no /update succeeded: the test raced nothing")
			}
			if lost > 0 {
				t.Errorf("the reset was lost in %d of %d races", lost, rounds*accounts)
			}
		})
	}
}

// raceAnswer is a recorded status and body, safe to take in any goroutine
// (call fails the test, which only the test goroutine may do).
type raceAnswer struct {
	code int
	body string
}

func raceSend(h http.Handler, method, path, body, token string) raceAnswer {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return raceAnswer{rec.Code, rec.Body.String()}
}

// raceJob is one account's part of a round: its access token (for /update
// and /password) and the bodies of its password change and reset.
type raceJob struct {
	token, change, reset string
}

type roundResult struct {
	change, reset raceAnswer
	updates       []raceAnswer
}

// raceRound releases, at one barrier, for each job: updaters goroutines
// that loop /update with the job's token until the job's writers are done,
// and those writers, a POST /password and a POST /password/reset. Each
// /update sets the phone number taken from phones, so each call writes.
func raceRound(h http.Handler, jobs []raceJob, updaters int, phones *atomic.Int64) []roundResult {
	out := make([]roundResult, len(jobs))
	start := make(chan struct{})
	var all sync.WaitGroup
	for i, job := range jobs {
		res := &out[i]
		done := make(chan struct{})
		var writers sync.WaitGroup
		var mu sync.Mutex
		for range updaters {
			all.Add(1)
			go func() {
				defer all.Done()
				<-start
				for {
					select {
					case <-done:
						return
					default:
					}
					body := fmt.Sprintf(`{"phone_num":"+4930%07d"}`, phones.Add(1))
					a := raceSend(h, "POST", "/update", body, job.token)
					mu.Lock()
					res.updates = append(res.updates, a)
					mu.Unlock()
				}
			}()
		}
		writers.Add(2)
		go func() {
			defer writers.Done()
			<-start
			res.change = raceSend(h, "POST", "/password", job.change, job.token)
		}()
		go func() {
			defer writers.Done()
			<-start
			res.reset = raceSend(h, "POST", "/password/reset", job.reset, "")
		}()
		all.Add(1)
		go func() {
			defer all.Done()
			writers.Wait()
			close(done)
		}()
	}
	close(start)
	all.Wait()
	return out
}

// workingPasswords returns those of pws that log in as addr. A failed
// login must be the wrong-password answer, nothing else.
func workingPasswords(t *testing.T, h http.Handler, addr string, pws ...string) []string {
	t.Helper()
	var out []string
	for _, pw := range pws {
		r := call(t, h, "POST", "/login", jsonBody(map[string]string{"email": addr, "password": pw}))
		switch r.Status {
		case http.StatusOK:
			out = append(out, pw)
		case http.StatusUnauthorized:
		default:
			t.Fatalf("login with %q = %d %s", pw, r.Status, r.Raw)
		}
	}
	return out
}
