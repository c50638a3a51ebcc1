package adminapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aktual/aktual/server/admin"
	"github.com/aktual/aktual/server/adminapi"
)

type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	Security    []map[string][]string `json:"security"`
	Responses   map[string]any        `json:"responses"`
	RequestBody *struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type schema struct {
	Properties map[string]any `json:"properties"`
	Required   []string       `json:"required"`
}

func readOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "admin-api.openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/admin-api.openapi.json: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes: every route the server has is documented, and
// every documented operation is a route, each with bearer security and
// the answers every route can give.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := readOpenAPI(t)
	served := map[string]bool{}
	for _, rt := range adminapi.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Path
		served[key] = true
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is served but not in the OpenAPI file", rt.Method, rt.Path)
			continue
		}
		if len(op.Security) == 0 {
			t.Errorf("%s %s: no security requirement", rt.Method, rt.Path)
		}
		for _, status := range []string{"401", "403", "429"} {
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s %s: answer %s not documented", rt.Method, rt.Path, status)
			}
		}
		if strings.Contains(rt.Path, "{") {
			if _, ok := op.Responses["404"]; !ok {
				t.Errorf("%s %s: a route with a path parameter answers 404, undocumented", rt.Method, rt.Path)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !served[method+" "+path] {
				t.Errorf("%s %s is documented but not served", strings.ToUpper(method), path)
			}
		}
	}
}

// TestOpenAPISchemasMatchTypes: each documented body has the JSON fields
// of the Go type the server encodes or decodes, no more and no fewer.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := readOpenAPI(t)
	types := map[string]any{
		"Credential":        admin.Credential{},
		"CustomerSummary":   admin.CustomerSummary{},
		"SearchPage":        admin.SearchPage{},
		"HistoryEntry":      admin.HistoryEntry{},
		"CustomerDetail":    admin.CustomerDetail{},
		"CustomerChange":    admin.CustomerChange{},
		"ActivateRequest":   admin.ActivateRequest{},
		"Outcome":           admin.Outcome{},
		"AddRequest":        admin.AddRequest{},
		"Reissued":          admin.Reissued{},
		"Event":             admin.Event{},
		"EventPage":         admin.EventPage{},
		"ReleaseView":       admin.ReleaseView{},
		"ReleasePage":       admin.ReleasePage{},
		"ReleaseStatus":     admin.ReleaseStatus{},
		"ReleaseStatusPage": admin.ReleaseStatusPage{},
		"ControlView":       admin.ControlView{},
		"YankView":          admin.YankView{},
		"YankDowngrade":     admin.YankDowngrade{},
		"StaffView":         admin.StaffView{},
		"NewStaff":          admin.NewStaff{},
		"TokenView":         admin.TokenView{},
		"NewToken":          admin.NewToken{},
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is missing", name)
			continue
		}
		var documented []string
		for p := range s.Properties {
			documented = append(documented, p)
		}
		slices.Sort(documented)
		have := jsonFields(reflect.TypeOf(v))
		if !slices.Equal(documented, have) {
			t.Errorf("schema %s documents %v; the Go type has %v", name, documented, have)
		}
		for _, r := range s.Required {
			if !slices.Contains(have, r) {
				t.Errorf("schema %s requires %q, which the Go type lacks", name, r)
			}
		}
	}
}

// jsonFields lists the JSON names of a struct's fields, embedded ones
// flattened, sorted.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
