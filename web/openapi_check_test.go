package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"user-registry/web/openapi"
)

// apiContract sends requests through the real handler and checks each
// answer against web/openapi/openapi.json with kin-openapi: the status must
// be documented for the operation, the Content-Type and body must match
// its schema (JSON Schema 2020-12, the dialect of OpenAPI 3.1), a status
// documented without content must have an empty body, and no object may
// carry a field the document does not name. A request the server accepted
// (2xx) must also be one the document allows.
type apiContract struct {
	t    *testing.T
	doc  *openapi3.T
	h    http.Handler
	seen map[string]bool // "METHOD /template" of every operation exercised
}

func newAPIContract(t *testing.T, h http.Handler) *apiContract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json is %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return &apiContract{t: t, doc: doc, h: h, seen: map[string]bool{}}
}

// apiCall is one request to an operation of the document.
type apiCall struct {
	method string
	path   string            // as in the document: /clients/{id}
	params map[string]string // path parameters
	query  string
	body   string     // JSON
	form   url.Values // a form body instead of body
	ct     string     // Content-Type; application/json when body is set and ct is not
	auth   string     // Authorization header
	basic  [2]string
	want   int
}

// do sends c, checks the answer against the document and returns it.
func (a *apiContract) do(c apiCall) *httptest.ResponseRecorder {
	a.t.Helper()
	item := a.doc.Paths.Value(c.path)
	if item == nil || item.GetOperation(c.method) == nil {
		a.t.Fatalf("%s %s is not in openapi.json", c.method, c.path)
	}
	a.seen[c.method+" "+c.path] = true
	switch {
	case c.form != nil:
		c.body, c.ct = c.form.Encode(), "application/x-www-form-urlencoded"
	case c.ct == "" && c.body != "":
		c.ct = "application/json"
	}
	target := c.path
	for k, v := range c.params {
		target = strings.ReplaceAll(target, "{"+k+"}", url.PathEscape(v))
	}
	if c.query != "" {
		target += "?" + c.query
	}
	newReq := func() *http.Request {
		r := httptest.NewRequest(c.method, target, strings.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		if c.basic[0] != "" {
			r.SetBasicAuth(url.QueryEscape(c.basic[0]), url.QueryEscape(c.basic[1]))
		}
		return r
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, newReq())
	what := c.method + " " + target
	if rec.Code != c.want {
		a.t.Fatalf("%s = %d %s, want %d", what, rec.Code, rec.Body, c.want)
	}
	route := &routers.Route{Spec: a.doc, Path: c.path, PathItem: item, Method: c.method, Operation: item.GetOperation(c.method)}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	reqIn := &openapi3filter.RequestValidationInput{Request: newReq(), PathParams: c.params, Route: route, Options: opts}
	if rec.Code < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), reqIn); err != nil {
			a.t.Errorf("%s was accepted (%d), but openapi.json does not allow the request: %v", what, rec.Code, err)
		}
	}
	in := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: rec.Code,
		Header: rec.Header(), Options: opts}
	in.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		a.t.Errorf("%s: answer %d %s does not match openapi.json: %v", what, rec.Code, rec.Body, err)
		return rec
	}
	resp := route.Operation.Responses.Status(rec.Code).Value
	if len(resp.Content) == 0 {
		if rec.Body.Len() != 0 {
			a.t.Errorf("%s: %d is documented without a body, got %q", what, rec.Code, rec.Body)
		}
		return rec
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		a.t.Errorf("%s: body %q is not JSON", what, rec.Body)
		return rec
	}
	schema := resp.Content.Get(rec.Header().Get("Content-Type")).Schema
	if extra := undocumented(schema.Value, body, "body"); len(extra) > 0 {
		a.t.Errorf("%s: answer %d carries what openapi.json does not describe: %s\n%s", what, rec.Code,
			strings.Join(extra, ", "), rec.Body)
	}
	return rec
}

// undocumented lists the members of v that schema s does not name: a
// property outside "properties" when additionalProperties is not given,
// and an object whose schema names no member at all.
func undocumented(s *openapi3.Schema, v any, at string) []string {
	if s == nil {
		return nil
	}
	for _, branches := range [][]*openapi3.SchemaRef{s.OneOf, s.AnyOf} {
		if len(branches) == 0 {
			continue
		}
		var first []string
		for _, b := range branches {
			if b.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()) != nil {
				continue // the value is not of this branch
			}
			extra := undocumented(b.Value, v, at)
			if len(extra) == 0 {
				return nil
			}
			if first == nil {
				first = extra
			}
		}
		return first
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		ap := s.AdditionalProperties
		if len(s.Properties) == 0 && ap.Has == nil && ap.Schema == nil {
			return []string{at + " (an object whose members are not described)"}
		}
		for k, m := range v {
			switch p := s.Properties[k]; {
			case p != nil:
				out = append(out, undocumented(p.Value, m, at+"."+k)...)
			case ap.Schema != nil:
				out = append(out, undocumented(ap.Schema.Value, m, at+"."+k)...)
			case ap.Has == nil || !*ap.Has:
				out = append(out, at+"."+k)
			}
		}
	case []any:
		if s.Items != nil {
			for _, e := range v {
				out = append(out, undocumented(s.Items.Value, e, at+"[]")...)
			}
		}
	}
	sort.Strings(out)
	return out
}

// missed returns the operations of the document that no call exercised.
func (a *apiContract) missed() []string {
	var out []string
	for path, item := range a.doc.Paths.Map() {
		for method := range item.Operations() {
			if !a.seen[method+" "+path] {
				out = append(out, method+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}
