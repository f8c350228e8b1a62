package k8s

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	infv1 "sigs.k8s.io/gateway-api-inference-extension/api/v1"
	eppconfig "sigs.k8s.io/gateway-api-inference-extension/apix/config/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// What Sightline serves (cmd/sightline/serve.go, server/server.go).
const (
	readinessPath = "/health_generate"
	livenessPath  = "/health"
	metricsPath   = "/metrics" // with --enable-metrics
	engineLabel   = "inference.networking.k8s.io/engine-type"
	poolGroup     = "inference.networking.k8s.io"
)

// EPP v1.5.0 plugin types this example may use (upstream constants
// QueueScorerType, KvCacheUtilizationScorerType, PrefixCacheScorerPluginType,
// MetricsDataSourceType, MetricsExtractorType).
var eppPluginTypes = map[string]bool{
	"queue-scorer":                true,
	"kv-cache-utilization-scorer": true,
	"prefix-cache-scorer":         true,
	"metrics-data-source":         true,
	"core-metrics-extractor":      true,
}

// Metric flags that EPP v1.5.0 refuses at start-up (engine configs replace them).
var eppRefusedFlags = []string{
	"--total-queued-requests-metric", "--total-running-requests-metric",
	"--kv-cache-usage-percentage-metric", "--lora-info-metric", "--cache-info-metric",
}

// The SGLang metric names Sightline exports and the EPP's "sglang" engine reads.
var sglangMetrics = map[string]string{
	"queuedRequestsSpec":  "sglang:num_queue_reqs",
	"runningRequestsSpec": "sglang:num_running_reqs",
	"kvUsageSpec":         "sglang:token_usage",
}

// Parameters of the EPP data-layer plugins (upstream metricsDatasourceParams,
// modelServerExtractorParams and engineConfigParams), decoded strictly.
type metricsSourceParams struct {
	Scheme             string `json:"scheme"`
	Path               string `json:"path"`
	InsecureSkipVerify *bool  `json:"insecureSkipVerify"`
}

type engineConfig struct {
	Name                    string `json:"name"`
	QueuedRequestsSpec      string `json:"queuedRequestsSpec"`
	RunningRequestsSpec     string `json:"runningRequestsSpec"`
	KVUsageSpec             string `json:"kvUsageSpec"`
	LoRASpec                string `json:"loraSpec"`
	CacheInfoSpec           string `json:"cacheInfoSpec"`
	CacheBlockSizeLabelName string `json:"cacheBlockSizeLabelName,omitempty"`
	CacheNumBlocksLabelName string `json:"cacheNumBlocksLabelName,omitempty"`
	CacheBlockSizeSpec      string `json:"cacheBlockSizeSpec,omitempty"`
	CacheNumBlocksSpec      string `json:"cacheNumBlocksSpec,omitempty"`
}

type extractorParams struct {
	EngineLabelKey string         `json:"engineLabelKey"`
	DefaultEngine  string         `json:"defaultEngine"`
	EngineConfigs  []engineConfig `json:"engineConfigs"`
}

type errList []error

func (e *errList) add(format string, args ...any) { *e = append(*e, fmt.Errorf(format, args...)) }

// selects reports whether a non-empty equality selector matches set.
func selects(sel, set map[string]string) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(set))
}

// podsSelectedBy returns the Deployments in ns whose pods sel selects.
func (b *bundle) podsSelectedBy(ns string, sel map[string]string) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range all[*appsv1.Deployment](b) {
		if d.Namespace == ns && selects(sel, d.Spec.Template.Labels) {
			out = append(out, d)
		}
	}
	return out
}

// containerPort resolves a named or numbered port of c.
func containerPort(c *corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// containerWithPort returns the container of pod listening on port.
func containerWithPort(pod *corev1.PodSpec, port intstr.IntOrString) (*corev1.Container, int32) {
	for i := range pod.Containers {
		if n, ok := containerPort(&pod.Containers[i], port); ok {
			return &pod.Containers[i], n
		}
	}
	return nil, 0
}

func grants(rules []rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	for _, v := range verbs {
		ok := false
		for _, r := range rules {
			if (slices.Contains(r.APIGroups, group) || slices.Contains(r.APIGroups, "*")) &&
				(slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) &&
				(slices.Contains(r.Verbs, v) || slices.Contains(r.Verbs, "*")) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// checkLinks checks that the objects reference each other consistently and
// agree with what Sightline and the endpoint picker expect.
func (b *bundle) checkLinks() []error {
	var errs errList
	b.checkNames(&errs)
	for _, d := range all[*appsv1.Deployment](b) {
		b.checkDeployment(&errs, d)
	}
	for _, s := range all[*corev1.Service](b) {
		b.checkService(&errs, s)
	}
	b.checkBindings(&errs)
	pools := all[*infv1.InferencePool](b)
	if len(pools) == 0 {
		errs.add("no InferencePool in the example")
	}
	for _, p := range pools {
		b.checkPool(&errs, p)
	}
	routed := map[string]bool{}
	for _, r := range all[*gwv1.HTTPRoute](b) {
		b.checkRoute(&errs, r, routed)
	}
	for _, p := range pools {
		if !routed[p.Namespace+"/"+p.Name] {
			errs.add("InferencePool %s: no HTTPRoute backendRef names it", p.Name)
		}
	}
	return errs
}

// checkNames: names set, namespaces consistent, no duplicates.
func (b *bundle) checkNames(errs *errList) {
	namespaces := map[string]bool{}
	for _, ns := range all[*corev1.Namespace](b) {
		namespaces[ns.Name] = true
	}
	seen := map[string]string{}
	for _, d := range b.docs {
		name, ns := d.obj.GetName(), d.obj.GetNamespace()
		if name == "" {
			errs.add("%s: %s has no metadata.name", d.where, d.kind)
		}
		switch {
		case d.namespaced && ns == "":
			errs.add("%s: %s %s has no metadata.namespace (the EPP flags and RBAC subjects name the namespace)", d.where, d.kind, name)
		case d.namespaced && len(namespaces) > 0 && !namespaces[ns]:
			errs.add("%s: %s %s is in namespace %q, which the example does not create", d.where, d.kind, name, ns)
		case !d.namespaced && ns != "":
			errs.add("%s: cluster-scoped %s %s sets metadata.namespace", d.where, d.kind, name)
		}
		key := d.kind + " " + ns + "/" + name
		if prev, dup := seen[key]; dup {
			errs.add("%s: %s is already defined in %s", d.where, key, prev)
		}
		seen[key] = d.where
	}
}

// checkDeployment: the selector matches the pod template, volumes and
// service accounts resolve.
func (b *bundle) checkDeployment(errs *errList, d *appsv1.Deployment) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	switch {
	case d.Spec.Selector == nil || err != nil || sel.Empty():
		errs.add("Deployment %s: missing or invalid spec.selector (%v)", d.Name, err)
	case !sel.Matches(labels.Set(d.Spec.Template.Labels)):
		errs.add("Deployment %s: spec.selector %s does not match the pod template labels %v", d.Name, sel, d.Spec.Template.Labels)
	}
	pod := &d.Spec.Template.Spec
	volumes := map[string]*corev1.Volume{}
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		volumes[v.Name] = v
		if v.PersistentVolumeClaim != nil {
			if _, ok := find[*corev1.PersistentVolumeClaim](b, d.Namespace, v.PersistentVolumeClaim.ClaimName); !ok {
				errs.add("Deployment %s: volume %s claims PersistentVolumeClaim %q, which the example does not define", d.Name, v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		}
		if v.ConfigMap != nil {
			if _, ok := find[*corev1.ConfigMap](b, d.Namespace, v.ConfigMap.Name); !ok {
				errs.add("Deployment %s: volume %s mounts ConfigMap %q, which the example does not define", d.Name, v.Name, v.ConfigMap.Name)
			}
		}
	}
	for _, c := range pod.Containers {
		if c.Image == "" {
			errs.add("Deployment %s: container %s has no image", d.Name, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if volumes[m.Name] == nil {
				errs.add("Deployment %s: container %s mounts volume %q, which the pod does not define", d.Name, c.Name, m.Name)
			}
		}
	}
	if sa := pod.ServiceAccountName; sa != "" && sa != "default" {
		if _, ok := find[*corev1.ServiceAccount](b, d.Namespace, sa); !ok {
			errs.add("Deployment %s: serviceAccountName %q is not defined in the example", d.Name, sa)
		}
	}
}

// checkService: it selects pods of the example and its target ports exist.
func (b *bundle) checkService(errs *errList, s *corev1.Service) {
	deps := b.podsSelectedBy(s.Namespace, s.Spec.Selector)
	if len(deps) == 0 {
		errs.add("Service %s: selector %v selects no Deployment's pods", s.Name, s.Spec.Selector)
	}
	for _, p := range s.Spec.Ports {
		target := p.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(p.Port)
		}
		for _, d := range deps {
			if c, _ := containerWithPort(&d.Spec.Template.Spec, target); c == nil {
				errs.add("Service %s: port %s targets %s, which no container of Deployment %s exposes", s.Name, p.Name, target.String(), d.Name)
			}
		}
	}
}

// checkBindings: role bindings reference roles and service accounts of the example.
func (b *bundle) checkBindings(errs *errList) {
	checkSubjects := func(what string, subjects []rbacv1.Subject) {
		for _, s := range subjects {
			if s.Kind != rbacv1.ServiceAccountKind {
				continue
			}
			if s.Namespace == "" {
				errs.add("%s: subject ServiceAccount %s has no namespace", what, s.Name)
			} else if _, ok := find[*corev1.ServiceAccount](b, s.Namespace, s.Name); !ok {
				errs.add("%s: subject ServiceAccount %s/%s is not defined in the example", what, s.Namespace, s.Name)
			}
		}
	}
	for _, rb := range all[*rbacv1.RoleBinding](b) {
		what := "RoleBinding " + rb.Name
		if rb.Namespace == "" {
			continue // reported by checkNames
		}
		checkSubjects(what, rb.Subjects)
		if _, ok := b.bindingRules(rb.Namespace, rb.RoleRef); !ok {
			errs.add("%s: roleRef %s %s is not defined in the example", what, rb.RoleRef.Kind, rb.RoleRef.Name)
		}
	}
	for _, crb := range all[*rbacv1.ClusterRoleBinding](b) {
		what := "ClusterRoleBinding " + crb.Name
		checkSubjects(what, crb.Subjects)
		if crb.RoleRef.Kind != "ClusterRole" {
			errs.add("%s: roleRef kind %q, want ClusterRole", what, crb.RoleRef.Kind)
		} else if _, ok := find[*rbacv1.ClusterRole](b, "", crb.RoleRef.Name); !ok {
			errs.add("%s: ClusterRole %s is not defined in the example", what, crb.RoleRef.Name)
		}
	}
}

// bindingRules returns the rules a RoleBinding in ns grants.
func (b *bundle) bindingRules(ns string, ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, bool) {
	if ref.APIGroup != rbacv1.GroupName {
		return nil, false
	}
	switch ref.Kind {
	case "Role":
		if r, ok := find[*rbacv1.Role](b, ns, ref.Name); ok {
			return r.Rules, true
		}
	case "ClusterRole":
		if r, ok := find[*rbacv1.ClusterRole](b, "", ref.Name); ok {
			return r.Rules, true
		}
	}
	return nil, false
}

// saRules returns everything RoleBindings in ns grant the service account.
func (b *bundle) saRules(ns, sa string) []rbacv1.PolicyRule {
	var rules []rbacv1.PolicyRule
	for _, rb := range all[*rbacv1.RoleBinding](b) {
		if rb.Namespace != ns {
			continue
		}
		for _, s := range rb.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace == ns {
				r, _ := b.bindingRules(ns, rb.RoleRef)
				rules = append(rules, r...)
			}
		}
	}
	return rules
}

// checkPool: the pool selects the Sightline pods on their serving port and
// points at an EPP that watches this pool with SGLang metric names.
func (b *bundle) checkPool(errs *errList, p *infv1.InferencePool) {
	what := "InferencePool " + p.Name
	sel := map[string]string{}
	for k, v := range p.Spec.Selector.MatchLabels {
		sel[string(k)] = string(v)
	}
	servers := b.podsSelectedBy(p.Namespace, sel)
	if len(servers) == 0 {
		errs.add("%s: selector %v matches no Deployment's pod labels", what, sel)
	}
	if len(p.Spec.TargetPorts) == 0 {
		errs.add("%s: no targetPorts", what)
		return
	}

	// The endpoint picker.
	ref := p.Spec.EndpointPickerRef
	defaultEngine := "vllm" // the EPP's default without a core-metrics-extractor
	if (ref.Kind != "" && ref.Kind != "Service") || (ref.Group != nil && *ref.Group != "") {
		errs.add("%s: endpointPickerRef must name a core Service, got group %v kind %q", what, ref.Group, ref.Kind)
	} else if svc, ok := find[*corev1.Service](b, p.Namespace, string(ref.Name)); !ok {
		errs.add("%s: endpointPickerRef names Service %q, which the example does not define", what, ref.Name)
	} else if ref.Port == nil {
		errs.add("%s: endpointPickerRef has no port", what)
	} else {
		var target *intstr.IntOrString
		for _, sp := range svc.Spec.Ports {
			if sp.Port == int32(ref.Port.Number) {
				t := sp.TargetPort
				if t.Type == intstr.Int && t.IntVal == 0 {
					t = intstr.FromInt32(sp.Port)
				}
				target = &t
			}
		}
		epps := b.podsSelectedBy(p.Namespace, svc.Spec.Selector)
		switch {
		case target == nil:
			errs.add("%s: endpointPickerRef port %d is not a port of Service %s", what, ref.Port.Number, svc.Name)
		case len(epps) != 1:
			errs.add("%s: Service %s selects %d Deployments, want the one EPP", what, svc.Name, len(epps))
		default:
			if slices.Contains(servers, epps[0]) {
				errs.add("%s: the pool selector %v also selects the EPP's pods", what, sel)
			}
			defaultEngine = b.checkEPP(errs, p, epps[0], *target)
		}
	}

	for _, d := range servers {
		b.checkServer(errs, p, d, defaultEngine)
	}
}

// checkEPP checks the endpoint-picker Deployment for pool p and returns the
// engine its metrics extractor applies to unlabeled pods.
func (b *bundle) checkEPP(errs *errList, p *infv1.InferencePool, d *appsv1.Deployment, grpc intstr.IntOrString) (defaultEngine string) {
	defaultEngine = "vllm"
	what := "EPP Deployment " + d.Name
	pod := &d.Spec.Template.Spec
	c, _ := containerWithPort(pod, grpc)
	if c == nil {
		errs.add("%s: no container exposes the ext-proc port %s", what, grpc.String())
		return
	}
	args := append(slices.Clone(c.Command), c.Args...)
	if v, _ := flagValue(args, "--pool-name"); v != p.Name {
		errs.add("%s: --pool-name %q, want the InferencePool's name %q", what, v, p.Name)
	}
	if v, ok := flagValue(args, "--pool-namespace"); ok && v != p.Namespace {
		errs.add("%s: --pool-namespace %q, want %q", what, v, p.Namespace)
	}
	if v, ok := flagValue(args, "--pool-group"); ok && v != poolGroup {
		errs.add("%s: --pool-group %q, want %q", what, v, poolGroup)
	}
	for _, f := range eppRefusedFlags {
		if _, ok := flagValue(args, f); ok {
			errs.add("%s: %s is refused by EPP v1.5.0; set metric names in the core-metrics-extractor config", what, f)
		}
	}

	// RBAC: the EPP watches the pool and its pods.
	rules := b.saRules(d.Namespace, pod.ServiceAccountName)
	if !grants(rules, "", "pods", "get", "list", "watch") || !grants(rules, poolGroup, "inferencepools", "get", "list", "watch") {
		errs.add("%s: service account %q may not get/list/watch pods and inferencepools in %s", what, pod.ServiceAccountName, d.Namespace)
	}

	// Its config file, from a mounted ConfigMap.
	file, ok := flagValue(args, "--config-file")
	if !ok {
		errs.add("%s: no --config-file: the EPP's defaults read vLLM metric names", what)
		return
	}
	var text string
	found := false
	for _, m := range c.VolumeMounts {
		if m.MountPath != path.Dir(file) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			if cm, ok := find[*corev1.ConfigMap](b, d.Namespace, v.ConfigMap.Name); ok {
				text, found = cm.Data[path.Base(file)]
			}
		}
	}
	if !found {
		errs.add("%s: --config-file %s is not a key of a ConfigMap mounted at %s", what, file, path.Dir(file))
		return
	}
	var cfg eppconfig.EndpointPickerConfig
	if err := strictYAML([]byte(text), &cfg); err != nil {
		errs.add("%s: %s: %v", what, file, err)
		return
	}
	if cfg.APIVersion != eppconfig.GroupName+"/v1alpha1" || cfg.Kind != "EndpointPickerConfig" {
		errs.add("%s: %s is %s %s, want %s/v1alpha1 EndpointPickerConfig", what, file, cfg.APIVersion, cfg.Kind, eppconfig.GroupName)
	}
	names := map[string]bool{}
	for _, pl := range cfg.Plugins {
		name := pl.Name
		if name == "" {
			name = pl.Type
		}
		if names[name] {
			errs.add("%s: plugin %q defined twice", what, name)
		}
		names[name] = true
		if !eppPluginTypes[pl.Type] {
			errs.add("%s: unknown plugin type %q", what, pl.Type)
		}
		switch pl.Type {
		case "metrics-data-source":
			var ps metricsSourceParams
			if len(pl.Parameters) > 0 {
				if err := strictUnmarshal(pl.Parameters, &ps); err != nil {
					errs.add("%s: %s parameters: %v", what, name, err)
				}
			}
			if (ps.Path != "" && ps.Path != metricsPath) || (ps.Scheme != "" && ps.Scheme != "http") {
				errs.add("%s: %s scrapes %s://…%s, Sightline serves http://…%s", what, name, ps.Scheme, ps.Path, metricsPath)
			}
		case "core-metrics-extractor":
			var ps extractorParams
			if len(pl.Parameters) > 0 {
				if err := strictUnmarshal(pl.Parameters, &ps); err != nil {
					errs.add("%s: %s parameters: %v", what, name, err)
				}
			}
			if ps.DefaultEngine != "" {
				defaultEngine = ps.DefaultEngine
			}
			if ps.EngineLabelKey != "" && ps.EngineLabelKey != engineLabel {
				errs.add("%s: engineLabelKey %q; the Sightline pods carry %q", what, ps.EngineLabelKey, engineLabel)
			}
			for _, ec := range ps.EngineConfigs {
				if ec.Name != "sglang" {
					continue
				}
				got := map[string]string{"queuedRequestsSpec": ec.QueuedRequestsSpec, "runningRequestsSpec": ec.RunningRequestsSpec, "kvUsageSpec": ec.KVUsageSpec}
				for k, want := range sglangMetrics {
					if got[k] != want {
						errs.add("%s: sglang engine %s %q, Sightline exports %q", what, k, got[k], want)
					}
				}
			}
		}
	}
	if len(cfg.SchedulingProfiles) == 0 {
		errs.add("%s: %s has no schedulingProfiles", what, file)
	}
	for _, prof := range cfg.SchedulingProfiles {
		for _, ref := range prof.Plugins {
			if !names[ref.PluginRef] {
				errs.add("%s: profile %s references undefined plugin %q", what, prof.Name, ref.PluginRef)
			}
		}
	}
	return defaultEngine
}

// checkServer checks a Sightline Deployment selected by pool p.
func (b *bundle) checkServer(errs *errList, p *infv1.InferencePool, d *appsv1.Deployment, defaultEngine string) {
	what := "Deployment " + d.Name
	pod := &d.Spec.Template.Spec
	port := int32(p.Spec.TargetPorts[0].Number)
	c, _ := containerWithPort(pod, intstr.FromInt32(port))
	if c == nil {
		errs.add("%s: no container port equals InferencePool %s's target port %d", what, p.Name, port)
		return
	}
	for _, tp := range p.Spec.TargetPorts[1:] {
		if _, ok := containerPort(c, intstr.FromInt32(int32(tp.Number))); !ok {
			errs.add("%s: container %s does not expose InferencePool target port %d", what, c.Name, tp.Number)
		}
	}
	args := append(slices.Clone(c.Command), c.Args...)
	if v, _ := flagValue(args, "--port"); v != strconv.Itoa(int(port)) {
		errs.add("%s: --port %q, want the container and target port %d", what, v, port)
	}
	if v, _ := flagValue(args, "--host"); v != "0.0.0.0" && v != "::" {
		errs.add("%s: --host %q: Sightline listens on 127.0.0.1 unless told 0.0.0.0", what, v)
	}
	if _, ok := flagValue(args, "--enable-metrics"); !ok {
		errs.add("%s: no --enable-metrics: the endpoint picker scrapes %s", what, metricsPath)
	}
	if v, ok := flagValue(args, "--model-path"); ok {
		inVolume := false
		for _, m := range c.VolumeMounts {
			if v == m.MountPath || len(v) > len(m.MountPath) && v[:len(m.MountPath)+1] == m.MountPath+"/" {
				inVolume = true
			}
		}
		if !inVolume {
			errs.add("%s: --model-path %s is not under a mounted volume", what, v)
		}
	}

	// Probes on the serving port.
	probe := func(name string, pr *corev1.Probe, paths ...string) {
		if pr == nil || pr.HTTPGet == nil {
			errs.add("%s: container %s has no HTTP %s", what, c.Name, name)
			return
		}
		if !slices.Contains(paths, pr.HTTPGet.Path) {
			errs.add("%s: %s path %q, want %v", what, name, pr.HTTPGet.Path, paths)
		}
		if n, ok := containerPort(c, pr.HTTPGet.Port); !ok || n != port {
			errs.add("%s: %s port %s is not the serving port %d", what, name, pr.HTTPGet.Port.String(), port)
		}
	}
	probe("readinessProbe", c.ReadinessProbe, readinessPath)
	probe("livenessProbe", c.LivenessProbe, livenessPath)
	if c.StartupProbe != nil {
		probe("startupProbe", c.StartupProbe, livenessPath, readinessPath)
	}

	// Graceful shutdown: preStop + --drain-timeout must fit in the grace period.
	v, ok := flagValue(args, "--drain-timeout")
	drain, err := time.ParseDuration(v)
	if !ok || err != nil {
		errs.add("%s: --drain-timeout %q must be given explicitly as a duration (%v)", what, v, err)
	}
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		switch h := c.Lifecycle.PreStop; {
		case h.Sleep != nil:
			preStop = time.Duration(h.Sleep.Seconds) * time.Second
		case h.Exec != nil:
			errs.add("%s: preStop exec: the distroless image has no shell or sleep", what)
		}
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil {
		errs.add("%s: terminationGracePeriodSeconds unset (default 30s) with --drain-timeout %s", what, drain)
	} else if grace := time.Duration(*g) * time.Second; grace <= drain+preStop {
		errs.add("%s: terminationGracePeriodSeconds %s must exceed preStop %s + --drain-timeout %s", what, grace, preStop, drain)
	}

	// The EPP must read SGLang metric names from these pods.
	engine, labeled := d.Spec.Template.Labels[engineLabel]
	if !labeled {
		engine = defaultEngine
	}
	if engine != "sglang" {
		errs.add("%s: the endpoint picker would read %q metric names; label the pods %s=sglang", what, engine, engineLabel)
	}

	// Hardening the brief asks for.
	nonRoot := pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
	sc := c.SecurityContext
	if sc != nil && sc.RunAsNonRoot != nil {
		nonRoot = *sc.RunAsNonRoot
	}
	if !nonRoot {
		errs.add("%s: runAsNonRoot is not true", what)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		errs.add("%s: container %s needs readOnlyRootFilesystem, no privilege escalation and capabilities.drop [ALL]", what, c.Name)
	}
	tmp := false
	for _, m := range c.VolumeMounts {
		for _, vol := range pod.Volumes {
			if m.MountPath == "/tmp" && vol.Name == m.Name && vol.EmptyDir != nil && !m.ReadOnly {
				tmp = true
			}
		}
	}
	if !tmp {
		errs.add("%s: no writable emptyDir at /tmp (read-only root; Sightline unpacks its default model there)", what)
	}
}

// checkRoute: every InferencePool backendRef names a pool of the example.
func (b *bundle) checkRoute(errs *errList, r *gwv1.HTTPRoute, routed map[string]bool) {
	what := "HTTPRoute " + r.Name
	if len(r.Spec.ParentRefs) == 0 {
		errs.add("%s: no parentRefs", what)
	}
	if len(r.Spec.Rules) == 0 {
		errs.add("%s: no rules", what)
	}
	for _, rule := range r.Spec.Rules {
		if len(rule.BackendRefs) == 0 {
			errs.add("%s: a rule has no backendRefs", what)
		}
		for _, br := range rule.BackendRefs {
			ns := r.Namespace
			if br.Namespace != nil {
				ns = string(*br.Namespace)
			}
			kind := "Service"
			if br.Kind != nil {
				kind = string(*br.Kind)
			}
			group := ""
			if br.Group != nil {
				group = string(*br.Group)
			}
			switch {
			case kind == "InferencePool" && group == poolGroup:
				if _, ok := find[*infv1.InferencePool](b, ns, string(br.Name)); !ok {
					errs.add("%s: backendRef names InferencePool %s/%s, which the example does not define", what, ns, br.Name)
				} else {
					routed[ns+"/"+string(br.Name)] = true
				}
			case kind == "InferencePool":
				errs.add("%s: InferencePool backendRef group %q, want %q", what, group, poolGroup)
			default:
				errs.add("%s: backendRef %s %s/%s, want the InferencePool", what, kind, group, br.Name)
			}
		}
	}
}
