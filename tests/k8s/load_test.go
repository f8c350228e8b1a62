// Package k8s checks the Kubernetes example in examples/kubernetes: every
// YAML document decodes strictly into the upstream API types (unknown and
// duplicate fields are errors, field names are case-sensitive, as the API
// server's strict field validation has them), the Gateway API and Inference
// Extension objects also pass their CRDs' OpenAPI schemas, and the objects
// reference each other consistently.
package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	infv1 "sigs.k8s.io/gateway-api-inference-extension/api/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// exampleDir is the manifest directory, relative to this module.
const exampleDir = "../../examples/kubernetes"

// newObject returns an empty value of the upstream type for apiVersion and
// kind, and whether the kind is namespaced.
func newObject(apiVersion, kind string) (obj metav1.Object, namespaced bool, ok bool) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, false, true
	case "v1 Service":
		return &corev1.Service{}, true, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true, true
	case "rbac.authorization.k8s.io/v1 Role":
		return &rbacv1.Role{}, true, true
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return &rbacv1.RoleBinding{}, true, true
	case "rbac.authorization.k8s.io/v1 ClusterRole":
		return &rbacv1.ClusterRole{}, false, true
	case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}, false, true
	case "inference.networking.k8s.io/v1 InferencePool":
		return &infv1.InferencePool{}, true, true
	case "gateway.networking.k8s.io/v1 HTTPRoute":
		return &gwv1.HTTPRoute{}, true, true
	}
	return nil, false, false
}

// doc is one YAML document of the example.
type doc struct {
	where      string // file#index, for messages
	apiVersion string
	kind       string
	namespaced bool
	json       []byte
	obj        metav1.Object
}

// bundle is the decoded example.
type bundle struct {
	docs []doc
}

// strictUnmarshal decodes JSON into v the way the API server's strict field
// validation does: case-sensitive names, unknown and duplicate fields fail.
func strictUnmarshal(data []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(data, v, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// strictYAML converts YAML to JSON (duplicate keys fail) and decodes it strictly.
func strictYAML(data []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	return strictUnmarshal(j, v)
}

// load reads every *.yaml / *.yml file in dir and decodes each document.
func load(dir string) (*bundle, []error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, []error{err}
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, []error{fmt.Errorf("no YAML files in %s", dir)}
	}
	b := &bundle{}
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			raw, err := r.Read()
			if err == io.EOF {
				break
			}
			where := fmt.Sprintf("%s#%d", filepath.Base(f), i)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				break
			}
			j, err := yaml.YAMLToJSONStrict(raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" {
				continue // comments only
			}
			var tm metav1.TypeMeta
			if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			obj, namespaced, ok := newObject(tm.APIVersion, tm.Kind)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: no known type for apiVersion %q kind %q", where, tm.APIVersion, tm.Kind))
				continue
			}
			if err := strictUnmarshal(j, obj); err != nil {
				errs = append(errs, fmt.Errorf("%s (%s %s): %w", where, tm.Kind, obj.GetName(), err))
				continue
			}
			b.docs = append(b.docs, doc{where: where, apiVersion: tm.APIVersion, kind: tm.Kind, namespaced: namespaced, json: j, obj: obj})
		}
	}
	return b, errs
}

// validate runs every check on dir.
func validate(dir string) []error {
	b, errs := load(dir)
	if b == nil {
		return errs
	}
	errs = append(errs, b.checkCRDSchemas()...)
	errs = append(errs, b.checkLinks()...)
	return errs
}

// all returns the decoded objects of type T.
func all[T metav1.Object](b *bundle) []T {
	var out []T
	for _, d := range b.docs {
		if o, ok := d.obj.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of type T named name in namespace ns.
func find[T metav1.Object](b *bundle, ns, name string) (T, bool) {
	for _, o := range all[T](b) {
		if o.GetName() == name && o.GetNamespace() == ns {
			return o, true
		}
	}
	var zero T
	return zero, false
}

// flagValue returns the value of flag name (given as "--name") in args,
// accepting "--name value", "--name=value" and the single-dash forms.
func flagValue(args []string, name string) (string, bool) {
	bare := strings.TrimLeft(name, "-")
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		k, v, eq := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if k != bare {
			continue
		}
		if eq {
			return v, true
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			return args[i+1], true
		}
		return "", true
	}
	return "", false
}
