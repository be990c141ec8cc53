package provider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"user-registry/provider"
)

// TestUserAdminScope (SEC-69): a domain admin's scope reaches the users of
// exactly its domain; every other user is ErrNoSuchUser for every verb,
// and its list is confined to its domain. The zero scope reaches nobody.
func TestUserAdminScope(t *testing.T) {
	ctx := context.Background()
	e := newAcctEnv(t)
	ua, audit := newUserAdmin(t, e)
	mine := e.signup(t, "gil@corp.example", "correct-horse-battery-9")
	sub := e.signup(t, "hal@eu.corp.example", "correct-horse-battery-9")
	other := e.signup(t, "ivy@other.example", "correct-horse-battery-9")
	corp := provider.AdminScope{Domain: "corp.example"}

	for _, ref := range []string{sub.ID, sub.Email, other.ID, other.Email, "nobody@corp.example", "no-such-id", ""} {
		t.Run("out of scope "+ref, func(t *testing.T) {
			if _, err := ua.Show(ctx, corp, ref); !errors.Is(err, provider.ErrNoSuchUser) {
				t.Errorf("show: %v", err)
			}
			if _, err := ua.SetDisabled(ctx, corp, ref, true); !errors.Is(err, provider.ErrNoSuchUser) {
				t.Errorf("disable: %v", err)
			}
			for name, f := range map[string]func(context.Context, provider.AdminScope, string) error{
				"logout": ua.Logout, "delete": ua.Delete, "mfa-reset": ua.MFAReset,
			} {
				if err := f(ctx, corp, ref); !errors.Is(err, provider.ErrNoSuchUser) {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
	if u, err := e.store.UserByID(ctx, other.ID); err != nil || u.Disabled {
		t.Fatalf("another domain's user was changed: %+v, %v", u, err)
	}
	if got, err := ua.Show(ctx, corp, "GIL@Corp.Example"); err != nil || got.UserID != mine.ID {
		t.Errorf("show own user by email: %+v, %v", got, err)
	}
	if _, err := ua.Show(ctx, provider.AdminScope{}, mine.ID); !errors.Is(err, provider.ErrNoSuchUser) {
		t.Errorf("zero scope reached a user: %v", err)
	}
	for _, q := range []provider.UserQuery{{}, {Domain: "other.example"}, {Domain: "eu.corp.example"}, {Domain: "corp.example"}} {
		list, err := ua.List(ctx, corp, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.Users {
			if u.Domain != "corp.example" {
				t.Errorf("list %+v: domain admin sees %s", q, u.Email)
			}
		}
		if want := q.Domain == "" || q.Domain == "corp.example"; want != (len(list.Users) == 1) {
			t.Errorf("list %+v: %d users", q, len(list.Users))
		}
	}
	if err := ua.MFAReset(ctx, corp, mine.Email); err != nil {
		t.Fatal(err)
	}
	if ev := audit.last(t); ev.Event != provider.EventMFADisabled || ev.UserID != mine.ID {
		t.Errorf("mfa reset event: %+v", ev)
	}
	if err := ua.Delete(ctx, corp, mine.ID); err != nil {
		t.Fatal(err)
	}
	if ev := audit.last(t); ev.Event != provider.EventAccountDeleted || ev.UserID != mine.ID {
		t.Errorf("delete event: %+v", ev)
	}
	if _, err := ua.Show(ctx, provider.AllUsers, mine.ID); !errors.Is(err, provider.ErrNoSuchUser) {
		t.Errorf("deleted user: %v", err)
	}
}

// TestUserAdminList: pages of the list join to every user once, newest
// first; next_cursor is absent on the last page; limits and cursors are
// checked.
func TestUserAdminList(t *testing.T) {
	ctx := context.Background()
	e := newAcctEnv(t)
	ua, _ := newUserAdmin(t, e)
	var want []string
	for i := range 7 {
		u := e.signup(t, fmt.Sprintf("user%d@list.example", i), "correct-horse-battery-9")
		want = append([]string{u.ID}, want...) // newest first
		e.clk.Advance(time.Second)
	}
	var got []string
	q := provider.UserQuery{Limit: 3}
	for pages := 0; ; pages++ {
		list, err := ua.List(ctx, provider.AllUsers, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.Users {
			got = append(got, u.UserID)
		}
		if list.NextCursor == "" {
			if pages != 2 || len(list.Users) != 1 {
				t.Errorf("last page %d has %d users", pages, len(list.Users))
			}
			break
		}
		q.Cursor = list.NextCursor
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages:\n got  %v\n want %v", got, want)
	}
	if list, err := ua.List(ctx, provider.AllUsers, provider.UserQuery{Limit: 7}); err != nil || list.NextCursor != "" {
		t.Errorf("exactly one full page: next_cursor %q, %v", list.NextCursor, err)
	}
	if list, err := ua.List(ctx, provider.AllUsers, provider.UserQuery{Query: "USER3"}); err != nil || len(list.Users) != 1 {
		t.Errorf("query: %+v, %v", list, err)
	}
	for _, bad := range []provider.UserQuery{
		{Limit: provider.MaxUserPage + 1}, {Limit: -1}, {Cursor: "not a cursor"}, {Cursor: "MTIz"}, {Domain: "bad domain"},
	} {
		if _, err := ua.List(ctx, provider.AllUsers, bad); !errors.Is(err, provider.ErrInvalidInput) {
			t.Errorf("%+v: %v, want ErrInvalidInput", bad, err)
		}
	}
	if list, err := ua.List(ctx, provider.AllUsers, provider.UserQuery{Limit: provider.MaxUserPage}); err != nil || len(list.Users) != 7 {
		t.Errorf("limit %d: %d users, %v", provider.MaxUserPage, len(list.Users), err)
	}
}
