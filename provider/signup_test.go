package provider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"user-registry/provider"
	"user-registry/storage"
)

func TestSignup(t *testing.T) {
	const pw = "correct horse battery"
	tests := []struct {
		name    string
		in      provider.SignupInput
		wantErr error
		wantMsg string // provider.Message for input errors
	}{
		{name: "ok", in: provider.SignupInput{Email: "ann@example.com", Password: pw}},
		{name: "ok with phone, confirm, discoverable", in: provider.SignupInput{Email: "Ann@Example.COM", Password: pw,
			ConfirmPass: acctStr(pw), Phone: acctStr("921234567890"), Discoverable: acctBool(true)}},
		{name: "blocked domain", in: provider.SignupInput{Email: "mallory@evil.com", Password: pw}, wantErr: provider.ErrDomainBlocked},
		{name: "blocked subdomain", in: provider.SignupInput{Email: "mallory@mail.EVIL.com", Password: pw}, wantErr: provider.ErrDomainBlocked},
		{name: "exists", in: provider.SignupInput{Email: "bob@x.com", Password: pw}, wantErr: provider.ErrUserExists},
		{name: "exists case-insensitive", in: provider.SignupInput{Email: "Bob@X.com", Password: pw}, wantErr: provider.ErrUserExists},
		{name: "bad email", in: provider.SignupInput{Email: "not-an-email", Password: pw},
			wantErr: provider.ErrInvalidInput, wantMsg: "Please provide a valid email"},
		{name: "short password", in: provider.SignupInput{Email: "c@example.com", Password: "short"}, wantErr: provider.ErrInvalidInput},
		{name: "long password", in: provider.SignupInput{Email: "c@example.com", Password: string(make([]byte, 129))}, wantErr: provider.ErrInvalidInput},
		{name: "common password", in: provider.SignupInput{Email: "c@example.com", Password: "Password123"}, wantErr: provider.ErrInvalidInput},
		{name: "bad phone", in: provider.SignupInput{Email: "c@example.com", Password: pw, Phone: acctStr("12ab")},
			wantErr: provider.ErrInvalidInput, wantMsg: "Please provide a valid phone number (e.g. 921234567890)"},
		{name: "confirm mismatch", in: provider.SignupInput{Email: "c@example.com", Password: pw, ConfirmPass: acctStr(pw + "x")},
			wantErr: provider.ErrInvalidInput, wantMsg: "Passwords don't match!"},
		{name: "blocked domain beats existing user", in: provider.SignupInput{Email: "old@evil.com", Password: pw}, wantErr: provider.ErrDomainBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAcctEnv(t)
			ctx := context.Background()
			// Pre-existing users: one ordinary, one whose domain was
			// blocked after signup.
			e.signup(t, "bob@x.com", pw)
			if err := e.store.CreateUser(ctx, &storage.User{ID: uuid.NewString(), Email: "old@evil.com",
				EmailCanonical: "old@evil.com", Domain: "evil.com"}); err != nil {
				t.Fatal(err)
			}
			u, err := e.acc.Signup(ctx, tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantMsg != "" && provider.Message(err) != tt.wantMsg {
					t.Errorf("message = %q, want %q", provider.Message(err), tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := uuid.Parse(u.ID); err != nil {
				t.Errorf("id %q is not a UUID", u.ID)
			}
			got, err := e.store.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.IsActivated {
				t.Error("not activated at signup without a mailer")
			}
			if got.PasswordHash == "" || got.PasswordHash == tt.in.Password {
				t.Errorf("password hash %q", got.PasswordHash)
			}
			if tt.in.Phone != nil && got.PhoneNum != "+921234567890" {
				t.Errorf("phone = %q", got.PhoneNum)
			}
			if want := tt.in.Discoverable != nil && *tt.in.Discoverable; got.Discoverable != want {
				t.Errorf("discoverable = %v, want %v", got.Discoverable, want)
			}
			if got.EmailCanonical != strings.ToLower(got.Email) || got.Domain != "example.com" {
				t.Errorf("email %q canonical %q domain %q", got.Email, got.EmailCanonical, got.Domain)
			}
			if tt.name != "ok" && got.Email != "Ann@example.com" {
				t.Errorf("email kept as typed with normalized domain: got %q", got.Email)
			}
		})
	}
}

func TestSignupNotActivatedWithMailer(t *testing.T) {
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.ActivateAtSignup = false })
	u := e.signup(t, "ann@example.com", "correct horse battery")
	if u.IsActivated {
		t.Error("activated at signup with a mailer")
	}
}

// SEC-28/46: the unique index decides between concurrent signups.
func TestSignupConcurrentOneWinner(t *testing.T) {
	e := newAcctEnv(t)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "race@example.com"
			if i%2 == 1 {
				email = "Race@Example.com"
			}
			_, err := e.acc.Signup(context.Background(), provider.SignupInput{Email: email, Password: "correct horse battery"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok, exists := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, provider.ErrUserExists):
			exists++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || exists != n-1 {
		t.Fatalf("successes %d, exists %d; want 1 and %d", ok, exists, n-1)
	}
}
