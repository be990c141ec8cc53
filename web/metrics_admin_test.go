package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsAdminActions (SPEC §13): admin API changes are counted by
// action and outcome; reads are not actions.
func TestMetricsAdminActions(t *testing.T) {
	e := newAdminUsersEnv(t, "sqlite+memory")
	bob := "/admin/users/" + e.ids["bob"]
	steps := []struct {
		method, path, body, tok string
		want                    int
	}{
		{"PATCH", bob, `{"disabled":true}`, e.admin, 200},
		{"PATCH", bob, `{"disabled":false}`, e.corp, 200},
		{"PATCH", "/admin/users/" + e.ids["dave"], `{"disabled":true}`, e.corp, 404},
		{"GET", bob, "", e.admin, 200},
		{"GET", "/admin/users", "", e.admin, 200},
	}
	for _, s := range steps {
		if a := e.req(t, s.method, s.path, s.body, s.tok); a.status != s.want {
			t.Fatalf("%s %s = %d %s, want %d", s.method, s.path, a.status, a.body, s.want)
		}
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var got []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "user_registry_admin_actions_total{") {
			got = append(got, line)
		}
	}
	want := []string{
		`user_registry_admin_actions_total{action="PATCH /admin/users/{id}",outcome="ok"} 2`,
		`user_registry_admin_actions_total{action="PATCH /admin/users/{id}",outcome="refused"} 1`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("admin action metrics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
