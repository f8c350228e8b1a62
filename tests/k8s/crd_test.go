package k8s

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// crdSource says where the CRD of an apiVersion/kind lives: a module of
// go.mod and a file inside it.
type crdSource struct{ module, file string }

var crdSources = map[string]crdSource{
	"inference.networking.k8s.io/v1 InferencePool": {"sigs.k8s.io/gateway-api-inference-extension", "config/crd/bases/inference.networking.k8s.io_inferencepools.yaml"},
	"gateway.networking.k8s.io/v1 HTTPRoute":       {"sigs.k8s.io/gateway-api", "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"},
}

// schema is the part of an OpenAPI v3 (structural) schema checked here.
// CEL rules (x-kubernetes-validations) and formats are not evaluated.
type schema struct {
	Type                 string             `json:"type"`
	Properties           map[string]*schema `json:"properties"`
	AdditionalProperties *schemaOrBool      `json:"additionalProperties"`
	Items                *schema            `json:"items"`
	Required             []string           `json:"required"`
	Enum                 []any              `json:"enum"`
	Pattern              string             `json:"pattern"`
	MinLength            *int64             `json:"minLength"`
	MaxLength            *int64             `json:"maxLength"`
	MinItems             *int64             `json:"minItems"`
	MaxItems             *int64             `json:"maxItems"`
	MinProperties        *int64             `json:"minProperties"`
	MaxProperties        *int64             `json:"maxProperties"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
	PreserveUnknown      bool               `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString          bool               `json:"x-kubernetes-int-or-string"`
}

type schemaOrBool struct {
	allowed bool
	schema  *schema
}

func (s *schemaOrBool) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &s.allowed); err == nil {
		return nil
	}
	s.allowed = true
	return json.Unmarshal(b, &s.schema)
}

type crd struct {
	Spec struct {
		Group    string `json:"group"`
		Versions []struct {
			Name   string `json:"name"`
			Schema struct {
				OpenAPIV3Schema *schema `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
	} `json:"spec"`
}

var moduleDirs sync.Map // module path -> directory

// moduleDir asks the go command where module lives (it is in go.mod, so
// `go test` has already downloaded it).
func moduleDir(module string) (string, error) {
	if d, ok := moduleDirs.Load(module); ok {
		return d.(string), nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	d := strings.TrimSpace(string(out))
	if d == "" {
		return "", fmt.Errorf("go list -m %s: module not downloaded", module)
	}
	moduleDirs.Store(module, d)
	return d, nil
}

// loadCRDSchema returns the openAPIV3Schema for apiVersion/kind.
func loadCRDSchema(apiVersion, kind string) (*schema, error) {
	src, ok := crdSources[apiVersion+" "+kind]
	if !ok {
		return nil, nil
	}
	dir, err := moduleDir(src.module)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, src.file))
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var c crd
	if err := json.Unmarshal(j, &c); err != nil {
		return nil, err
	}
	group, version, _ := strings.Cut(apiVersion, "/")
	if c.Spec.Group != group || c.Spec.Names.Kind != kind {
		return nil, fmt.Errorf("%s defines %s %s, not %s %s", src.file, c.Spec.Group, c.Spec.Names.Kind, group, kind)
	}
	for _, v := range c.Spec.Versions {
		if v.Name == version && v.Schema.OpenAPIV3Schema != nil {
			return v.Schema.OpenAPIV3Schema, nil
		}
	}
	return nil, fmt.Errorf("%s has no schema for version %s", src.file, version)
}

// checkCRDSchemas validates the custom resources against their CRDs, which
// catches what the Go types cannot: enum values, required fields, bounds
// and patterns.
func (b *bundle) checkCRDSchemas() []error {
	var errs []error
	for _, d := range b.docs {
		s, err := loadCRDSchema(d.apiVersion, d.kind)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: CRD schema: %w", d.where, err))
			continue
		}
		if s == nil {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(d.json, &v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.where, err))
			continue
		}
		delete(v, "metadata") // validated by the API server, not the CRD schema
		for _, e := range validateSchema("", v, s) {
			errs = append(errs, fmt.Errorf("%s (%s %s): CRD schema: %w", d.where, d.kind, d.obj.GetName(), e))
		}
	}
	return errs
}

// validateSchema checks v against s and returns the violations.
func validateSchema(path string, v any, s *schema) []error {
	if s == nil {
		return nil
	}
	at := func(format string, args ...any) error {
		p := path
		if p == "" {
			p = "<root>"
		}
		return fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...))
	}
	var errs []error
	if len(s.Enum) > 0 {
		found := false
		for _, e := range s.Enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, at("value %v is not one of %v", v, s.Enum))
		}
	}
	if s.IntOrString {
		switch x := v.(type) {
		case string:
		case float64:
			if x != math.Trunc(x) {
				errs = append(errs, at("want an integer or a string, got %v", x))
			}
		default:
			errs = append(errs, at("want an integer or a string, got %T", v))
		}
		return errs
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, at("want an object, got %T", v))
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				errs = append(errs, at("missing required field %q", r))
			}
		}
		if s.MinProperties != nil && int64(len(m)) < *s.MinProperties {
			errs = append(errs, at("%d properties, fewer than %d", len(m), *s.MinProperties))
		}
		if s.MaxProperties != nil && int64(len(m)) > *s.MaxProperties {
			errs = append(errs, at("%d properties, more than %d", len(m), *s.MaxProperties))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			switch {
			case s.Properties[k] != nil:
				errs = append(errs, validateSchema(p, m[k], s.Properties[k])...)
			case s.AdditionalProperties != nil && s.AdditionalProperties.schema != nil:
				errs = append(errs, validateSchema(p, m[k], s.AdditionalProperties.schema)...)
			case s.AdditionalProperties != nil && s.AdditionalProperties.allowed,
				s.PreserveUnknown,
				len(s.Properties) == 0 && s.AdditionalProperties == nil: // free-form object
			default:
				errs = append(errs, at("unknown field %q", k))
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(errs, at("want an array, got %T", v))
		}
		if s.MinItems != nil && int64(len(a)) < *s.MinItems {
			errs = append(errs, at("%d items, fewer than %d", len(a), *s.MinItems))
		}
		if s.MaxItems != nil && int64(len(a)) > *s.MaxItems {
			errs = append(errs, at("%d items, more than %d", len(a), *s.MaxItems))
		}
		for i, x := range a {
			errs = append(errs, validateSchema(fmt.Sprintf("%s[%d]", path, i), x, s.Items)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return append(errs, at("want a string, got %T", v))
		}
		n := int64(len([]rune(str)))
		if s.MinLength != nil && n < *s.MinLength {
			errs = append(errs, at("%q is shorter than %d", str, *s.MinLength))
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			errs = append(errs, at("%q is longer than %d", str, *s.MaxLength))
		}
		if s.Pattern != "" {
			// CRD patterns are ECMA-262; the few Go's RE2 cannot compile are skipped.
			if re, err := regexp.Compile(s.Pattern); err == nil && !re.MatchString(str) {
				errs = append(errs, at("%q does not match %s", str, s.Pattern))
			}
		}
	case "integer", "number":
		x, ok := v.(float64)
		if !ok {
			return append(errs, at("want a number, got %T", v))
		}
		if s.Type == "integer" && x != math.Trunc(x) {
			errs = append(errs, at("want an integer, got %v", x))
		}
		if s.Minimum != nil && x < *s.Minimum {
			errs = append(errs, at("%v is less than %v", x, *s.Minimum))
		}
		if s.Maximum != nil && x > *s.Maximum {
			errs = append(errs, at("%v is more than %v", x, *s.Maximum))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, at("want a boolean, got %T", v))
		}
	}
	return errs
}
