package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file checks the emulator's answers against Frame.io's published OpenAPI document, as
// extracted into testdata/frameio-v4-openapi-extract.json (see testdata/README.md). The
// checker reads the parts of OpenAPI 3.0 the extract uses:
//
//   - $ref to #/components/schemas, type, format (uuid, date-time), enum, nullable, minimum,
//     maximum, minLength, maxLength, items, required, properties;
//   - allOf: an object's properties and required fields are the union of its own and those of
//     its allOf parts, recursively; a property named by several parts must satisfy each;
//   - additionalProperties: a property outside that union is refused unless the schema, or
//     (when the schema is silent) one of its parts, says additionalProperties: true. Several
//     schemas set additionalProperties: false beside allOf; read literally that would refuse
//     every property of the parts, so it is read as "nothing beyond the union";
//   - an object schema that declares no properties at all (`{"type": "object"}`, such as the
//     remote upload's links or the reduced metadata items) is free-form, as in JSON Schema;
//   - oneOf with a discriminator picks the mapped schema by the discriminating property; without
//     one, exactly one alternative must match.

// specDoc is the part of the OpenAPI document the checker reads.
type specDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type specOperation struct {
	Responses map[string]struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Nullable             bool               `json:"nullable"`
	Format               string             `json:"format"`
	Enum                 []any              `json:"enum"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties *bool              `json:"additionalProperties"`
	AllOf                []*schema          `json:"allOf"`
	OneOf                []*schema          `json:"oneOf"`
	Discriminator        *struct {
		PropertyName string            `json:"propertyName"`
		Mapping      map[string]string `json:"mapping"`
	} `json:"discriminator"`
	Items     *schema  `json:"items"`
	Minimum   *float64 `json:"minimum"`
	Maximum   *float64 `json:"maximum"`
	MinLength *int     `json:"minLength"`
	MaxLength *int     `json:"maxLength"`
}

func loadSpec(t testing.TB) *specDoc {
	t.Helper()
	b, err := os.ReadFile("testdata/frameio-v4-openapi-extract.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc specDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("decode the OpenAPI extract: %v", err)
	}
	// The move and rename operations, which the shared extract lacks (see testdata/README.md),
	// join it; neither file may redefine what the other has.
	b, err = os.ReadFile("testdata/frameio-v4-openapi-moves.json")
	if err != nil {
		t.Fatal(err)
	}
	var moves specDoc
	if err := json.Unmarshal(b, &moves); err != nil {
		t.Fatalf("decode the move operations: %v", err)
	}
	for path, ops := range moves.Paths {
		if doc.Paths[path] == nil {
			doc.Paths[path] = map[string]json.RawMessage{}
		}
		for m, raw := range ops {
			if _, dup := doc.Paths[path][m]; dup {
				t.Fatalf("%s %s is in both OpenAPI files", m, path)
			}
			doc.Paths[path][m] = raw
		}
	}
	for name, sch := range moves.Components.Schemas {
		if _, dup := doc.Components.Schemas[name]; dup {
			t.Fatalf("schema %s is in both OpenAPI files", name)
		}
		doc.Components.Schemas[name] = sch
	}
	return &doc
}

// response returns the schema the document gives for an operation's answer with status, nil
// for an answer without content, and false when the status is not documented for it.
func (d *specDoc) response(t testing.TB, op string, status int) (*schema, bool) {
	t.Helper()
	method, path, _ := strings.Cut(op, " ")
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		t.Fatalf("operation %q is not in the OpenAPI extract", op)
	}
	var o specOperation
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("decode operation %q: %v", op, err)
	}
	r, ok := o.Responses[strconv.Itoa(status)]
	if !ok {
		return nil, false
	}
	return r.Content["application/json"].Schema, true
}

// checker collects every way a value differs from a schema.
type checker struct {
	doc  *specDoc
	errs []string
}

func (c *checker) failf(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

func (c *checker) resolve(s *schema) *schema {
	for seen := 0; s != nil && s.Ref != ""; seen++ {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		next := c.doc.Components.Schemas[name]
		if !ok || next == nil || seen > 20 {
			panic("unresolvable $ref " + s.Ref)
		}
		s = next
	}
	return s
}

// isObject reports whether s (or one of its allOf parts) describes an object.
func (c *checker) isObject(s *schema) bool {
	s = c.resolve(s)
	if s.Type == "object" || s.Properties != nil {
		return true
	}
	for _, p := range s.AllOf {
		if c.isObject(p) {
			return true
		}
	}
	return false
}

// shape is an object schema flattened over allOf.
type shape struct {
	props    map[string][]*schema
	required []string
	open     bool // additional properties allowed
}

func (c *checker) shape(s *schema) shape {
	s = c.resolve(s)
	sh := shape{props: map[string][]*schema{}}
	partOpen := false
	for _, p := range s.AllOf {
		ps := c.shape(p)
		for k, v := range ps.props {
			sh.props[k] = append(sh.props[k], v...)
		}
		sh.required = append(sh.required, ps.required...)
		partOpen = partOpen || ps.open
	}
	for k, v := range s.Properties {
		sh.props[k] = append(sh.props[k], v)
	}
	sh.required = append(sh.required, s.Required...)
	switch {
	case s.AdditionalProperties != nil:
		sh.open = *s.AdditionalProperties
	case len(sh.props) == 0:
		sh.open = true // {"type": "object"}: free-form
	default:
		sh.open = partOpen
	}
	return sh
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// check compares v (decoded with UseNumber) with s.
func (c *checker) check(path string, v any, s *schema) {
	s = c.resolve(s)
	if v == nil {
		if !s.Nullable {
			c.failf(path, "is null, and the schema is not nullable")
		}
		return
	}
	if len(s.OneOf) > 0 {
		c.checkOneOf(path, v, s)
		return
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		c.failf(path, "%v is not one of %v", v, s.Enum)
	}
	switch {
	case c.isObject(s):
		obj, ok := v.(map[string]any)
		if !ok {
			c.failf(path, "is %T, want an object", v)
			return
		}
		sh := c.shape(s)
		for _, k := range sh.required {
			if _, ok := obj[k]; !ok {
				c.failf(path, "required field %q is missing", k)
			}
		}
		for _, k := range keys(obj) {
			schemas, ok := sh.props[k]
			if !ok {
				if !sh.open {
					c.failf(path, "field %q is not defined by the schema", k)
				}
				continue
			}
			for _, ps := range schemas {
				c.check(path+"."+k, obj[k], ps)
			}
		}
	case s.Type == "array":
		arr, ok := v.([]any)
		if !ok {
			c.failf(path, "is %T, want an array", v)
			return
		}
		for i, it := range arr {
			if s.Items != nil {
				c.check(fmt.Sprintf("%s[%d]", path, i), it, s.Items)
			}
		}
	case s.Type == "string":
		str, ok := v.(string)
		if !ok {
			c.failf(path, "is %T, want a string", v)
			return
		}
		if s.MinLength != nil && len(str) < *s.MinLength || s.MaxLength != nil && len(str) > *s.MaxLength {
			c.failf(path, "length %d is outside the schema's bounds", len(str))
		}
		switch s.Format {
		case "uuid":
			if !uuidRE.MatchString(str) {
				c.failf(path, "%q is not a uuid", str)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				c.failf(path, "%q is not an RFC 3339 date-time", str)
			}
		}
	case s.Type == "integer" || s.Type == "number":
		n, ok := v.(json.Number)
		if !ok {
			c.failf(path, "is %T, want a%s %s", v, map[bool]string{true: "n"}[s.Type == "integer"], s.Type)
			return
		}
		f, _ := new(big.Float).SetString(n.String())
		if s.Type == "integer" && (f == nil || !f.IsInt()) {
			c.failf(path, "%s is not an integer", n)
			return
		}
		if x, _ := f.Float64(); s.Minimum != nil && x < *s.Minimum || s.Maximum != nil && x > *s.Maximum {
			c.failf(path, "%s is outside [%v, %v]", n, deref(s.Minimum), deref(s.Maximum))
		}
	case s.Type == "boolean":
		if _, ok := v.(bool); !ok {
			c.failf(path, "is %T, want a boolean", v)
		}
	}
}

func (c *checker) checkOneOf(path string, v any, s *schema) {
	if d := s.Discriminator; d != nil {
		obj, _ := v.(map[string]any)
		key, _ := obj[d.PropertyName].(string)
		ref, ok := d.Mapping[key]
		if !ok {
			c.failf(path, "%s %q maps to no alternative", d.PropertyName, key)
			return
		}
		c.check(path, v, &schema{Ref: ref})
		return
	}
	matches := 0
	for _, alt := range s.OneOf {
		sub := checker{doc: c.doc}
		sub.check(path, v, alt)
		if len(sub.errs) == 0 {
			matches++
		}
	}
	if matches != 1 {
		c.failf(path, "matches %d alternatives of oneOf, want 1", matches)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "-"
	}
	return *p
}

// decodeNumbers decodes JSON keeping numbers as json.Number, so integers can be told apart.
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// lookup follows a dotted path ("data.media_links.original") through decoded JSON.
func lookup(v any, path string) any {
	for k := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestCheckerReadsTheSpecAsIntended holds the checker's own reading of the rules above on
// small values, so a schema test that passes does so for the right reason.
func TestCheckerReadsTheSpecAsIntended(t *testing.T) {
	doc := loadSpec(t)
	folder := map[string]any{"id": "00000000-0000-4000-8000-000000000001", "name": "A", "type": "folder",
		"project_id": "00000000-0000-4000-8000-000000000002", "parent_id": nil, "created_at": "2026-11-26T12:00:00Z",
		"updated_at": "2026-11-26T12:00:00Z", "view_url": "http://x/view/1", "cover_file_id": nil}
	with := func(k string, v any) map[string]any {
		m := maps.Clone(folder)
		m[k] = v
		return m
	}
	without := func(k string) map[string]any {
		m := maps.Clone(folder)
		delete(m, k)
		return m
	}
	tests := []struct {
		name   string
		schema string
		v      any
		ok     bool
	}{
		{"allOf union accepts a folder", "FolderWithIncludes", folder, true},
		{"required from an allOf part", "FolderWithIncludes", without("view_url"), false},
		{"field outside the union", "FolderWithIncludes", with("file_size", json.Number("1")), false},
		{"wrong type", "FolderWithIncludes", with("name", json.Number("1")), false},
		{"not a uuid", "FolderWithIncludes", with("id", "abc"), false},
		{"null where not nullable", "FolderWithIncludes", with("name", nil), false},
		{"null where nullable", "FolderWithIncludes", with("cover_file_id", nil), true},
		{"discriminator picks the folder", "AssetWithIncludes", folder, true},
		{"additionalProperties false beside allOf keeps the union", "OriginalMediaLink",
			map[string]any{"download_url": "u", "inline_url": nil}, true},
		{"additionalProperties false beside allOf refuses others", "OriginalMediaLink",
			map[string]any{"download_url": "u", "inline_url": nil, "x": "y"}, false},
		{"additionalProperties true", "MediaLinkCommon", map[string]any{"download_url": nil, "x": "y"}, true},
		{"free-form object", "FolderWithIncludes", with("metadata", []any{map[string]any{"anything": json.Number("1")}}), true},
		{"source.parameter is not in the error schema", "BadRequest",
			map[string]any{"errors": []any{map[string]any{"detail": "d", "source": map[string]any{"parameter": "p"}}}}, false},
		{"integer bound", "UploadUrl", map[string]any{"size": json.Number("0"), "url": "u"}, false},
		{"integer, not a fraction", "UploadUrl", map[string]any{"size": json.Number("1.5"), "url": "u"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checker{doc: doc}
			c.check("$", tt.v, &schema{Ref: "#/components/schemas/" + tt.schema})
			if ok := len(c.errs) == 0; ok != tt.ok {
				t.Errorf("valid = %v, want %v; problems: %v", ok, tt.ok, c.errs)
			}
		})
	}
}
