package main

// inject.go: the admission logic. It decodes an AdmissionReview v1 for a Pod CREATE and builds the
// JSONPatch that marks the pod the way Istio's sidecar injector does. It never denies anything: whatever
// it cannot handle is allowed unchanged.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Names Istio uses for what it injects.
const (
	proxyContainerName = "istio-proxy"
	initContainerName  = "istio-init"

	annotationStatus = "sidecar.istio.io/status"
	annotationInject = "sidecar.istio.io/inject"
	labelInject      = "sidecar.istio.io/inject"
	labelRev         = "istio.io/rev"
	labelTLSMode     = "security.istio.io/tlsMode"
	labelCanonName   = "service.istio.io/canonical-name"
	labelCanonRev    = "service.istio.io/canonical-revision"
)

// injectedVolumes lists the volume names in the order the status annotation records them.
var injectedVolumes = []string{"istio-envoy", "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"}

// Record says where an injected pod records the revision that injected it (sailplan's RevisionRecord).
type Record string

const (
	RecordNone       Record = "none"       // before revisions existed (Istio <= 1.5)
	RecordLabel      Record = "label"      // pod label istio.io/rev (Istio 1.6-1.10)
	RecordAnnotation Record = "annotation" // "revision" in sidecar.istio.io/status (Istio 1.11+)
	RecordBoth       Record = "both"       // label and annotation (the default)
)

func parseRecord(s string) (Record, error) {
	switch Record(s) {
	case "":
		return RecordBoth, nil
	case RecordNone, RecordLabel, RecordAnnotation, RecordBoth:
		return Record(s), nil
	}
	return "", fmt.Errorf("record must be none, label, annotation or both (got %q)", s)
}

func (r Record) label() bool      { return r == RecordLabel || r == RecordBoth }
func (r Record) annotation() bool { return r == RecordAnnotation || r == RecordBoth }

// Params are the per-webhook settings, taken from the webhook URL (see paramsFrom).
type Params struct {
	Revision string
	Image    string
	Record   Record
}

// --- AdmissionReview v1 (only the fields used here) ---

type groupVersionKind struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

type admissionRequest struct {
	UID       string           `json:"uid"`
	Kind      groupVersionKind `json:"kind"`
	Name      string           `json:"name,omitempty"`
	Namespace string           `json:"namespace,omitempty"`
	Operation string           `json:"operation"`
	Object    json.RawMessage  `json:"object,omitempty"`
}

type admissionResponse struct {
	UID       string `json:"uid"`
	Allowed   bool   `json:"allowed"`
	PatchType string `json:"patchType,omitempty"`
	Patch     []byte `json:"patch,omitempty"` // base64 in JSON, as the API expects
}

type admissionReview struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Request    *admissionRequest  `json:"request,omitempty"`
	Response   *admissionResponse `json:"response,omitempty"`
}

// --- the parts of a Pod that matter here ---

type ownerReference struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type pod struct {
	Metadata struct {
		Name            string            `json:"name"`
		GenerateName    string            `json:"generateName"`
		Namespace       string            `json:"namespace"`
		Labels          map[string]string `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
		OwnerReferences []ownerReference  `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		HostNetwork    bool              `json:"hostNetwork"`
		InitContainers []json.RawMessage `json:"initContainers"`
		Containers     []struct {
			Name string `json:"name"`
		} `json:"containers"`
		Volumes []json.RawMessage `json:"volumes"`
	} `json:"spec"`
}

// patchOp is one RFC 6902 operation; only "add" is used.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// sidecarStatus is the value of the sidecar.istio.io/status annotation. Field order and names follow
// Istio's SidecarInjectionStatus; "revision" exists since Istio 1.11 and is left out when the revision is
// recorded only as a label (1.6-1.10 style) or not at all.
type sidecarStatus struct {
	InitContainers   []string `json:"initContainers"`
	Containers       []string `json:"containers"`
	Volumes          []string `json:"volumes"`
	ImagePullSecrets []string `json:"imagePullSecrets"`
	Revision         *string  `json:"revision,omitempty"`
}

// statusAnnotation returns the exact sidecar.istio.io/status value written for these parameters.
func statusAnnotation(p Params) string {
	st := sidecarStatus{
		InitContainers: []string{initContainerName},
		Containers:     []string{proxyContainerName},
		Volumes:        injectedVolumes,
	}
	if p.Record.annotation() {
		rev := p.Revision
		st.Revision = &rev
	}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // cannot happen: only strings and slices
	}
	return string(b)
}

// escapePointer escapes one JSON Pointer token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// skipReason says why a pod gets no sidecar, or "" when it should get one.
func skipReason(p *pod, namespace string) string {
	switch {
	case p.Metadata.Annotations[annotationStatus] != "":
		return "already injected (" + annotationStatus + " present)"
	case isFalse(p.Metadata.Annotations[annotationInject]):
		return "annotation " + annotationInject + "=false"
	case isFalse(p.Metadata.Labels[labelInject]):
		return "label " + labelInject + "=false"
	case p.Spec.HostNetwork:
		return "hostNetwork pod"
	case namespace == "kube-system" || namespace == "kube-public":
		return "namespace " + namespace + " is never injected"
	}
	for _, c := range p.Spec.Containers {
		if c.Name == proxyContainerName {
			return "already has an " + proxyContainerName + " container"
		}
	}
	return ""
}

// isFalse matches the values Istio treats as "do not inject" (strconv.ParseBool's false forms).
func isFalse(v string) bool {
	switch v {
	case "false", "False", "FALSE", "f", "F", "0", "n", "no", "N", "No", "NO":
		return true
	}
	return false
}

// workloadName approximates Istio's workload name for the canonical-name fallback: the Deployment name
// for a ReplicaSet's pod (its generateName minus the pod-template hash), the owner's name otherwise, then
// the pod's own name.
func workloadName(p *pod, reqName string) string {
	for _, o := range p.Metadata.OwnerReferences {
		if o.Kind == "ReplicaSet" {
			if i := strings.LastIndexByte(o.Name, '-'); i > 0 {
				return o.Name[:i]
			}
			return o.Name
		}
		if o.Name != "" {
			return o.Name
		}
	}
	if p.Metadata.Name != "" {
		return p.Metadata.Name
	}
	if reqName != "" {
		return reqName
	}
	return strings.TrimSuffix(p.Metadata.GenerateName, "-")
}

// firstOf returns the value of the first of keys present with a non-empty value in m.
func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// buildPatch returns the JSONPatch that injects the stand-in sidecar into p.
func buildPatch(p *pod, prm Params, reqName string) []patchOp {
	var ops []patchOp
	// appendTo adds values to the array at path, creating the array when the pod has none.
	appendTo := func(path string, present bool, values ...any) {
		if !present {
			ops = append(ops, patchOp{"add", path, values})
			return
		}
		for _, v := range values {
			ops = append(ops, patchOp{"add", path + "/-", v})
		}
	}
	// Init container last and proxy container last, as Istio's reorderPod leaves them by default.
	appendTo("/spec/initContainers", p.Spec.InitContainers != nil, initContainer(prm.Image))
	appendTo("/spec/containers", p.Spec.Containers != nil, proxyContainer(prm.Image))
	appendTo("/spec/volumes", p.Spec.Volumes != nil, volumes()...)

	labels := map[string]string{labelTLSMode: "istio"}
	if prm.Record.label() {
		labels[labelRev] = prm.Revision
	}
	if p.Metadata.Labels[labelCanonName] == "" {
		labels[labelCanonName] = firstOf(p.Metadata.Labels, "app.kubernetes.io/name", "app")
		if labels[labelCanonName] == "" {
			labels[labelCanonName] = workloadName(p, reqName)
		}
	}
	if p.Metadata.Labels[labelCanonRev] == "" {
		labels[labelCanonRev] = firstOf(p.Metadata.Labels, "app.kubernetes.io/version", "version")
		if labels[labelCanonRev] == "" {
			labels[labelCanonRev] = "latest"
		}
	}
	addToMap := func(path string, present bool, kv map[string]string) {
		if !present {
			ops = append(ops, patchOp{"add", path, kv})
			return
		}
		keys := make([]string, 0, len(kv))
		for k := range kv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ops = append(ops, patchOp{"add", path + "/" + escapePointer(k), kv[k]})
		}
	}
	addToMap("/metadata/labels", p.Metadata.Labels != nil, labels)
	addToMap("/metadata/annotations", p.Metadata.Annotations != nil,
		map[string]string{annotationStatus: statusAnnotation(prm)})
	return ops
}

// initContainer mirrors the istio-init container of Istio's injection template (iptables redirect to
// Envoy). Under kwok nothing actually runs it.
func initContainer(image string) map[string]any {
	return map[string]any{
		"name":            initContainerName,
		"image":           image,
		"imagePullPolicy": "IfNotPresent",
		"args": []string{
			"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
			"-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020",
		},
		"resources": map[string]any{
			"limits":   map[string]string{"cpu": "2000m", "memory": "1024Mi"},
			"requests": map[string]string{"cpu": "10m", "memory": "40Mi"},
		},
		"securityContext": map[string]any{
			"allowPrivilegeEscalation": false,
			"capabilities": map[string]any{
				"add":  []string{"NET_ADMIN", "NET_RAW"},
				"drop": []string{"ALL"},
			},
			"privileged":             false,
			"readOnlyRootFilesystem": false,
			"runAsGroup":             0,
			"runAsNonRoot":           false,
			"runAsUser":              0,
		},
	}
}

// proxyContainer mirrors the istio-proxy (Envoy + pilot-agent) container of Istio's injection template.
func proxyContainer(image string) map[string]any {
	fieldEnv := func(name, path string) map[string]any {
		return map[string]any{"name": name, "valueFrom": map[string]any{
			"fieldRef": map[string]string{"apiVersion": "v1", "fieldPath": path}}}
	}
	return map[string]any{
		"name":            proxyContainerName,
		"image":           image,
		"imagePullPolicy": "IfNotPresent",
		"args": []string{
			"proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
			"--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info",
		},
		"env": []any{
			map[string]string{"name": "JWT_POLICY", "value": "third-party-jwt"},
			map[string]string{"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_NAMESPACE", "metadata.namespace"),
			fieldEnv("INSTANCE_IP", "status.podIP"),
			fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
			fieldEnv("HOST_IP", "status.hostIP"),
		},
		"ports": []any{
			map[string]any{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"},
		},
		"readinessProbe": map[string]any{
			"httpGet":             map[string]any{"path": "/healthz/ready", "port": 15021},
			"initialDelaySeconds": 1,
			"periodSeconds":       2,
			"failureThreshold":    30,
		},
		"resources": map[string]any{
			"limits":   map[string]string{"cpu": "2000m", "memory": "1024Mi"},
			"requests": map[string]string{"cpu": "100m", "memory": "128Mi"},
		},
		"securityContext": map[string]any{
			"allowPrivilegeEscalation": false,
			"capabilities":             map[string]any{"drop": []string{"ALL"}},
			"privileged":               false,
			"readOnlyRootFilesystem":   true,
			"runAsGroup":               1337,
			"runAsNonRoot":             true,
			"runAsUser":                1337,
		},
		"volumeMounts": []any{
			map[string]string{"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"},
			map[string]string{"name": "istio-data", "mountPath": "/var/lib/istio/data"},
			map[string]string{"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
			map[string]string{"name": "istio-token", "mountPath": "/var/run/secrets/tokens"},
			map[string]string{"name": "istio-podinfo", "mountPath": "/etc/istio/pod"},
		},
	}
}

// volumes mirrors the volumes of Istio's injection template, in injectedVolumes order.
func volumes() []any {
	return []any{
		map[string]any{"name": "istio-envoy", "emptyDir": map[string]string{"medium": "Memory"}},
		map[string]any{"name": "istio-data", "emptyDir": map[string]string{}},
		map[string]any{"name": "istio-podinfo", "downwardAPI": map[string]any{"items": []any{
			map[string]any{"path": "labels", "fieldRef": map[string]string{"fieldPath": "metadata.labels"}},
			map[string]any{"path": "annotations", "fieldRef": map[string]string{"fieldPath": "metadata.annotations"}},
		}}},
		map[string]any{"name": "istio-token", "projected": map[string]any{"sources": []any{
			map[string]any{"serviceAccountToken": map[string]any{
				"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}},
		}}},
		map[string]any{"name": "istiod-ca-cert", "configMap": map[string]string{"name": "istio-ca-root-cert"}},
	}
}

// review handles one AdmissionReview body. It always returns a review whose response allows the request;
// the patch is set only when the pod is injected. The string is the log line's outcome.
func review(body []byte, prm Params, prmErr error) (*admissionReview, string) {
	var in admissionReview
	if err := json.Unmarshal(body, &in); err != nil || in.Request == nil {
		if err == nil {
			err = fmt.Errorf("no request")
		}
		return allow(in.APIVersion, ""), fmt.Sprintf("allowed, not parsed: invalid AdmissionReview: %v", err)
	}
	req := in.Request
	out := allow(in.APIVersion, req.UID)
	who := fmt.Sprintf("uid=%s %s %s/%s", req.UID, req.Operation, req.Kind.Kind, req.Namespace)
	if prmErr != nil {
		return out, who + ": allowed, not injected: bad webhook URL: " + prmErr.Error()
	}
	if req.Kind.Kind != "Pod" || req.Kind.Group != "" || req.Operation != "CREATE" {
		return out, who + ": allowed, not injected: not a Pod CREATE"
	}
	var p pod
	if err := json.Unmarshal(req.Object, &p); err != nil {
		return out, who + ": allowed, not parsed: invalid Pod: " + err.Error()
	}
	ns := req.Namespace
	if ns == "" {
		ns = p.Metadata.Namespace
	}
	name := p.Metadata.Name
	if name == "" {
		name = req.Name
	}
	if name == "" && p.Metadata.GenerateName != "" {
		name = p.Metadata.GenerateName + "*"
	}
	who = fmt.Sprintf("uid=%s %s pod %s/%s", req.UID, req.Operation, ns, name)
	if why := skipReason(&p, ns); why != "" {
		return out, who + ": allowed, skipped: " + why
	}
	ops := buildPatch(&p, prm, req.Name)
	patch, err := json.Marshal(ops)
	if err != nil {
		return out, who + ": allowed, not injected: marshalling the patch failed: " + err.Error()
	}
	out.Response.PatchType = "JSONPatch"
	out.Response.Patch = patch
	return out, fmt.Sprintf("%s: allowed, injected: revision=%s image=%s record=%s ops=%d",
		who, prm.Revision, prm.Image, prm.Record, len(ops))
}

func allow(apiVersion, uid string) *admissionReview {
	if apiVersion == "" {
		apiVersion = "admission.k8s.io/v1"
	}
	return &admissionReview{
		APIVersion: apiVersion,
		Kind:       "AdmissionReview",
		Response:   &admissionResponse{UID: uid, Allowed: true},
	}
}
