package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"user-registry/provider"
)

// SEC-54: a password change revokes every other session; the caller goes
// on with the fresh pair it gets back.
func TestChangePassword(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	mine := e.login(t, "ann@example.com", annPW)
	other := e.login(t, "ann@example.com", annPW)
	c := mustVerify(t, e, mine.AccessToken)
	const newPW = "a brand new secret"

	tests := []struct {
		name, current, next string
		wantErr             error
	}{
		{"wrong current", "nope nope nope", newPW, provider.ErrWrongPassword},
		{"weak new", annPW, "short", provider.ErrInvalidInput},
		{"common new", annPW, "password123", provider.ErrInvalidInput},
	}
	for _, tt := range tests {
		if err := e.acc.ChangePassword(ctx, c, tt.current, tt.next); !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	e.clk.Advance(time.Millisecond)
	if err := e.acc.ChangePassword(ctx, c, annPW, newPW); err != nil {
		t.Fatal(err)
	}
	// The calling session keeps working (SPEC §3a): its access token, and
	// its refresh token, which rotates into more working tokens.
	mustVerify(t, e, mine.AccessToken)
	next, err := e.acc.Refresh(ctx, mine.RefreshToken)
	if err != nil {
		t.Fatalf("caller's refresh token after the change: %v", err)
	}
	mustVerify(t, e, next.AccessToken)
	// Every other session is over.
	_, err = e.acc.Verify(ctx, other.AccessToken)
	wantUnauth(t, err, "other session's access token")
	_, err = e.acc.Refresh(ctx, other.RefreshToken)
	wantUnauth(t, err, "other session's refresh token")
	if _, err := e.acc.Login(ctx, "ann@example.com", annPW); !errors.Is(err, provider.ErrWrongPassword) {
		t.Errorf("old password: %v", err)
	}
	e.login(t, "ann@example.com", newPW)
}

func TestDeleteAccount(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	if err := e.acc.DeleteAccount(ctx, u.ID, "wrong password!"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	mustVerify(t, e, p.AccessToken)
	e.clk.Advance(time.Millisecond)
	if err := e.acc.DeleteAccount(ctx, u.ID, annPW); err != nil {
		t.Fatal(err)
	}
	_, err := e.acc.Verify(ctx, p.AccessToken)
	wantUnauth(t, err, "token of deleted user")
	_, err = e.acc.Refresh(ctx, p.RefreshToken)
	wantUnauth(t, err, "refresh of deleted user")
	if _, err := e.acc.Login(ctx, "ann@example.com", annPW); !errors.Is(err, provider.ErrUnknownUser) {
		t.Fatalf("login after delete: %v", err)
	}
	// The address can sign up again, and the new account works.
	e.signup(t, "ann@example.com", annPW)
	mustVerify(t, e, e.login(t, "ann@example.com", annPW).AccessToken)
}
