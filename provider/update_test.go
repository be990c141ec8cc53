package provider_test

import (
	"context"
	"errors"
	"testing"

	"user-registry/provider"
)

func TestUpdate(t *testing.T) {
	tests := []struct {
		name        string
		startPhone  string // "" none
		startDisc   bool
		in          provider.UpdateInput
		wantMsg     string
		wantChanged bool
		wantPhone   string
		wantDisc    bool
		wantErr     error
	}{
		{name: "empty", in: provider.UpdateInput{}, wantMsg: "Nothing to be updated"},
		{name: "phone", in: provider.UpdateInput{Phone: acctStr("+92 (123) 456-7890")},
			wantMsg: "Phone number updated", wantChanged: true, wantPhone: "+921234567890"},
		{name: "discoverable", in: provider.UpdateInput{Discoverable: acctBool(true)},
			wantMsg: "Discoverable field updated", wantChanged: true, wantDisc: true},
		{name: "both", in: provider.UpdateInput{Phone: acctStr("921234567890"), Discoverable: acctBool(true)},
			wantMsg: "Phone number updated. Discoverable field updated", wantChanged: true, wantPhone: "+921234567890", wantDisc: true},
		{name: "same values", startPhone: "921234567890", startDisc: true,
			in:      provider.UpdateInput{Phone: acctStr("+921234567890"), Discoverable: acctBool(true)},
			wantMsg: "Nothing to be updated", wantPhone: "+921234567890", wantDisc: true},
		{name: "clear phone", startPhone: "921234567890", in: provider.UpdateInput{Phone: acctStr("")},
			wantMsg: "Phone number updated", wantChanged: true},
		{name: "clear absent phone", in: provider.UpdateInput{Phone: acctStr("")}, wantMsg: "Nothing to be updated"},
		{name: "discoverable off", startDisc: true, in: provider.UpdateInput{Discoverable: acctBool(false)},
			wantMsg: "Discoverable field updated", wantChanged: true},
		{name: "bad phone", startPhone: "921234567890", in: provider.UpdateInput{Phone: acctStr("123"), Discoverable: acctBool(true)},
			wantErr: provider.ErrInvalidInput, wantPhone: "+921234567890"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAcctEnv(t)
			ctx := context.Background()
			in := provider.SignupInput{Email: "ann@example.com", Password: annPW, Discoverable: acctBool(tt.startDisc)}
			if tt.startPhone != "" {
				in.Phone = acctStr(tt.startPhone)
			}
			u, err := e.acc.Signup(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			msg, changed, err := e.acc.Update(ctx, u.ID, tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (msg != tt.wantMsg || changed != tt.wantChanged) {
				t.Errorf("Update = %q, %v; want %q, %v", msg, changed, tt.wantMsg, tt.wantChanged)
			}
			got, err := e.acc.Me(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PhoneNum != tt.wantPhone || got.Discoverable != tt.wantDisc {
				t.Errorf("stored phone %q discoverable %v; want %q %v", got.PhoneNum, got.Discoverable, tt.wantPhone, tt.wantDisc)
			}
		})
	}
}

func TestUpdateGoneUser(t *testing.T) {
	e := newAcctEnv(t)
	_, _, err := e.acc.Update(context.Background(), "5f0c6c1e-1111-4111-8111-111111111111",
		provider.UpdateInput{Discoverable: acctBool(true)})
	wantUnauth(t, err, "gone user")
}
