package k8s

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleManifests is the check of examples/kubernetes.
func TestExampleManifests(t *testing.T) {
	if b, _ := load(exampleDir); b != nil {
		kinds := map[string]int{}
		for _, d := range b.docs {
			kinds[d.kind]++
		}
		t.Logf("decoded %d documents: %v", len(b.docs), kinds)
		for _, k := range []string{"Deployment", "Service", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "InferencePool", "HTTPRoute"} {
			if kinds[k] == 0 {
				t.Errorf("the example has no %s", k)
			}
		}
	}
	for _, err := range validate(exampleDir) {
		t.Error(err)
	}
}

// TestMistakesAreCaught edits copies of the manifests and expects each
// mistake to be reported, so the checks above cannot pass vacuously.
func TestMistakesAreCaught(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"misspelled field", "20-sightline.yaml", "readinessProbe:", "readinesProbe:", `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"wrong case", "20-sightline.yaml", "containerPort: 30000", "containerport: 30000", "containerport"},
		{"duplicate key", "20-sightline.yaml", "  replicas: 2\n", "  replicas: 2\n  replicas: 3\n", "replicas"},
		{"unknown kind", "50-httproute.yaml", "kind: HTTPRoute", "kind: HTTPRoutes", `no known type for apiVersion "gateway.networking.k8s.io/v1" kind "HTTPRoutes"`},
		{"pool field typo", "40-inferencepool.yaml", "endpointPickerRef:", "endpointPicker:", `unknown field "spec.endpointPicker"`},
		{"pool enum typo", "40-inferencepool.yaml", "failureMode: FailOpen", "failureMode: FailOpn", "spec.endpointPickerRef.failureMode: value FailOpn is not one of"},
		{"route enum typo", "50-httproute.yaml", "type: PathPrefix", "type: PathPrefx", "spec.rules[0].matches[0].path.type: value PathPrefx"},
		{"pool selector", "40-inferencepool.yaml", "      app: sightline\n", "      app: sightlin\n", "matches no Deployment's pod labels"},
		{"pool port", "40-inferencepool.yaml", "number: 30000", "number: 3000", "target port 3000"},
		{"pool EPP", "40-inferencepool.yaml", "name: sightline-epp", "name: sightline-ep", `Service "sightline-ep", which the example does not define`},
		{"route backend", "50-httproute.yaml", "kind: InferencePool\n          name: sightline", "kind: InferencePool\n          name: sightlin", "InferencePool sightline/sightlin"},
		{"readiness path", "20-sightline.yaml", "path: /health_generate", "path: /healthz", `readinessProbe path "/healthz"`},
		{"liveness port", "20-sightline.yaml", "path: /health\n              port: http\n            periodSeconds: 20", "path: /health\n              port: 8080\n            periodSeconds: 20", "livenessProbe port 8080 is not the serving port"},
		{"serving port", "20-sightline.yaml", "- \"30000\"", "- \"30001\"", `--port "30001"`},
		{"grace period", "20-sightline.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30", "must exceed preStop 5s + --drain-timeout 30s"},
		{"drain timeout", "20-sightline.yaml", "- 30s", "- 60s", "must exceed preStop 5s + --drain-timeout 1m0s"},
		{"template labels", "20-sightline.yaml", "        app: sightline\n        # Tells", "        app: sightline-x\n        # Tells", "does not match the pod template labels"},
		{"EPP config field", "30-epp.yaml", `defaultEngine: "sglang"`, `defaultEngin: "sglang"`, `unknown field "defaultEngin"`},
		{"EPP plugin type", "30-epp.yaml", "- type: queue-scorer", "- type: queue-scorr", `unknown plugin type "queue-scorr"`},
		{"EPP refused flag", "30-epp.yaml", "- --tracing=false", "- --tracing=false\n            - --total-queued-requests-metric=sglang:num_queue_reqs", "--total-queued-requests-metric is refused"},
		{"EPP pool name", "30-epp.yaml", "- --pool-name\n            - sightline", "- --pool-name\n            - sightline-pool", `--pool-name "sightline-pool"`},
		{"EPP RBAC", "30-epp.yaml", `resources: ["pods"]`, `resources: ["pod"]`, "may not get/list/watch pods"},
		{"engine", "20-sightline.yaml", "engine-type: sglang", "engine-type: vllm", `would read "vllm" metric names`},
		{"namespace", "50-httproute.yaml", "namespace: sightline", "namespace: default", `namespace "default", which the example does not create`},
	}
	src, err := filepath.Glob(filepath.Join(exampleDir, "*.yaml"))
	if err != nil || len(src) == 0 {
		t.Fatalf("no manifests in %s (%v)", exampleDir, err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range src {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if filepath.Base(f) == tc.file {
					s := string(data)
					if n := strings.Count(s, tc.old); n != 1 {
						t.Fatalf("%s: %q occurs %d times, want once (update this case)", tc.file, tc.old, n)
					}
					data = []byte(strings.Replace(s, tc.old, tc.new, 1))
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			errs := validate(dir)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("no error contains %q; got %d:", tc.want, len(errs))
			for _, err := range errs {
				t.Log(err)
			}
		})
	}
}
