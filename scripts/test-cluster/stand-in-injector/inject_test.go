package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// applyAdds applies a JSONPatch made only of "add" operations (all the stand-in emits) to doc.
func applyAdds(t *testing.T, doc map[string]any, ops []patchOp) {
	t.Helper()
	for _, op := range ops {
		if op.Op != "add" {
			t.Fatalf("unexpected op %q", op.Op)
		}
		toks := strings.Split(op.Path, "/")[1:]
		for i := range toks {
			toks[i] = strings.ReplaceAll(strings.ReplaceAll(toks[i], "~1", "/"), "~0", "~")
		}
		// Round-trip the value so it is made of generic JSON types, like a real apply.
		var v any
		b, _ := json.Marshal(op.Value)
		json.Unmarshal(b, &v)
		// Walk to the object holding the last token (for ".../-", the object holding the array).
		n := len(toks) - 1
		if toks[n] == "-" {
			n--
		}
		obj := doc
		for _, tok := range toks[:n] {
			next, ok := obj[tok].(map[string]any)
			if !ok {
				t.Fatalf("%s: %q is not an object", op.Path, tok)
			}
			obj = next
		}
		if toks[len(toks)-1] == "-" {
			arr, ok := obj[toks[n]].([]any)
			if !ok {
				t.Fatalf("%s: not an array", op.Path)
			}
			obj[toks[n]] = append(arr, v)
		} else {
			obj[toks[n]] = v
		}
	}
}

func podDoc(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func reviewFor(podJSON string) []byte {
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",` +
		`"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},` +
		`"namespace":"apps","operation":"CREATE","object":` + podJSON + `}}`)
}

const deploymentPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-5d4f8b7c9-","namespace":"apps",
 "labels":{"app":"web","version":"v2","pod-template-hash":"5d4f8b7c9"},
 "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d4f8b7c9","uid":"x"}]},
 "spec":{"containers":[{"name":"app","image":"example.invalid/app:1"}]}}`

var prm = Params{Revision: "1-6-14", Image: "docker.io/istio/proxyv2:1.6.14", Record: RecordBoth}

func TestInjectsDeploymentPod(t *testing.T) {
	out, outcome := review(reviewFor(deploymentPod), prm, nil)
	r := out.Response
	if !r.Allowed || r.UID != "u-1" || r.PatchType != "JSONPatch" || out.APIVersion != "admission.k8s.io/v1" {
		t.Fatalf("bad response %+v (%s)", r, outcome)
	}
	var ops []patchOp
	if err := json.Unmarshal(r.Patch, &ops); err != nil {
		t.Fatal(err)
	}
	doc := podDoc(t, deploymentPod)
	applyAdds(t, doc, ops)
	meta := doc["metadata"].(map[string]any)
	labels := meta["labels"].(map[string]any)
	for k, want := range map[string]string{
		"istio.io/rev": "1-6-14", "security.istio.io/tlsMode": "istio",
		"service.istio.io/canonical-name": "web", "service.istio.io/canonical-revision": "v2", "app": "web",
	} {
		if labels[k] != want {
			t.Errorf("label %s = %v, want %s", k, labels[k], want)
		}
	}
	wantStatus := `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"1-6-14"}`
	if got := meta["annotations"].(map[string]any)[annotationStatus]; got != wantStatus {
		t.Errorf("status annotation\n got %v\nwant %s", got, wantStatus)
	}
	spec := doc["spec"].(map[string]any)
	cs := spec["containers"].([]any)
	if len(cs) != 2 || cs[0].(map[string]any)["name"] != "app" {
		t.Fatalf("containers: %v", cs)
	}
	proxy := cs[1].(map[string]any)
	if proxy["name"] != "istio-proxy" || proxy["image"] != prm.Image {
		t.Errorf("proxy container: %v", proxy)
	}
	if a := proxy["args"].([]any); a[0] != "proxy" || a[1] != "sidecar" {
		t.Errorf("proxy args: %v", a)
	}
	port := proxy["ports"].([]any)[0].(map[string]any)
	if port["name"] != "http-envoy-prom" || port["containerPort"] != float64(15090) {
		t.Errorf("proxy port: %v", port)
	}
	ics := spec["initContainers"].([]any)
	if len(ics) != 1 || ics[0].(map[string]any)["name"] != "istio-init" || ics[0].(map[string]any)["image"] != prm.Image {
		t.Errorf("init containers: %v", ics)
	}
	var vols []string
	for _, v := range spec["volumes"].([]any) {
		vols = append(vols, v.(map[string]any)["name"].(string))
	}
	if strings.Join(vols, ",") != strings.Join(injectedVolumes, ",") {
		t.Errorf("volumes: %v", vols)
	}
}

func TestRecordModes(t *testing.T) {
	for _, tc := range []struct {
		rec      Record
		label    bool
		revField bool
	}{
		{RecordBoth, true, true}, {RecordLabel, true, false}, {RecordAnnotation, false, true}, {RecordNone, false, false},
	} {
		p := prm
		p.Record = tc.rec
		out, _ := review(reviewFor(deploymentPod), p, nil)
		var ops []patchOp
		json.Unmarshal(out.Response.Patch, &ops)
		doc := podDoc(t, deploymentPod)
		applyAdds(t, doc, ops)
		meta := doc["metadata"].(map[string]any)
		_, hasLabel := meta["labels"].(map[string]any)["istio.io/rev"]
		status := meta["annotations"].(map[string]any)[annotationStatus].(string)
		hasRev := strings.Contains(status, `"revision":"1-6-14"`)
		if hasLabel != tc.label || hasRev != tc.revField {
			t.Errorf("record=%s: label=%v revision-in-status=%v (%s)", tc.rec, hasLabel, hasRev, status)
		}
	}
}

func TestExistingMapsAndArraysAreExtended(t *testing.T) {
	pod := `{"metadata":{"name":"p","labels":{"a/b":"1"},"annotations":{"x":"y"}},
	 "spec":{"initContainers":[{"name":"setup","image":"i"}],"containers":[{"name":"c","image":"i"}],
	 "volumes":[{"name":"v","emptyDir":{}}]}}`
	out, _ := review(reviewFor(pod), prm, nil)
	var ops []patchOp
	json.Unmarshal(out.Response.Patch, &ops)
	doc := podDoc(t, pod)
	applyAdds(t, doc, ops)
	spec := doc["spec"].(map[string]any)
	if n := len(spec["initContainers"].([]any)); n != 2 {
		t.Errorf("initContainers: %d", n)
	}
	if n := len(spec["volumes"].([]any)); n != 6 {
		t.Errorf("volumes: %d", n)
	}
	meta := doc["metadata"].(map[string]any)
	l := meta["labels"].(map[string]any)
	if l["a/b"] != "1" || l["service.istio.io/canonical-name"] != "p" || l["service.istio.io/canonical-revision"] != "latest" {
		t.Errorf("labels: %v", l)
	}
	if a := meta["annotations"].(map[string]any); a["x"] != "y" || a[annotationStatus] == nil {
		t.Errorf("annotations: %v", a)
	}
}

func TestSkipsAndNeverDenies(t *testing.T) {
	for name, body := range map[string][]byte{
		"inject=false": reviewFor(`{"metadata":{"annotations":{"sidecar.istio.io/inject":"false"}},"spec":{"containers":[{"name":"c"}]}}`),
		"injected":     reviewFor(`{"metadata":{"annotations":{"sidecar.istio.io/status":"{}"}},"spec":{"containers":[{"name":"c"}]}}`),
		"bad pod":      reviewFor(`"not a pod"`),
		"not a pod":    []byte(`{"request":{"uid":"u-1","kind":{"kind":"ConfigMap","version":"v1"},"operation":"CREATE","object":{}}}`),
		"update":       []byte(`{"request":{"uid":"u-1","kind":{"kind":"Pod","version":"v1"},"operation":"UPDATE","object":{}}}`),
	} {
		out, outcome := review(body, prm, nil)
		if !out.Response.Allowed || out.Response.Patch != nil || out.Response.UID != "u-1" {
			t.Errorf("%s: %+v (%s)", name, out.Response, outcome)
		}
	}
	out, outcome := review([]byte("garbage"), prm, nil)
	if !out.Response.Allowed || out.Response.Patch != nil || !strings.Contains(outcome, "not parsed") {
		t.Errorf("garbage: %+v (%s)", out.Response, outcome)
	}
	out, outcome = review(reviewFor(deploymentPod), Params{}, strconv.ErrSyntax)
	if !out.Response.Allowed || out.Response.Patch != nil {
		t.Errorf("bad params: %+v (%s)", out.Response, outcome)
	}
}

func TestWebhookConfig(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.crt")
	os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
	out, err := webhookConfig(webhookOptions{Name: "stand-in-1-6-14", WebhookName: "namespace.stand-in-injector.sailplan.test",
		URLBase: "https://127.0.0.1:1234/", CAFile: ca, Revision: "1-6-14", Image: "docker.io/istio/proxyv2:1.6.14"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`"url": "https://127.0.0.1:1234/inject/revision/1-6-14/image/docker.io/istio/proxyv2:1.6.14"`,
		`"sailplan.test/stand-in": "true"`, `"failurePolicy": "Fail"`, `"reinvocationPolicy": "Never"`,
		`"timeoutSeconds": 5`, `"sideEffects": "None"`, `"key": "istio-injection"`, `"operator": "DoesNotExist"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	out, _ = webhookConfig(webhookOptions{Name: "d", WebhookName: "a.b.c", URLBase: "https://127.0.0.1:1", CAFile: ca,
		Revision: "default", Image: "i", Record: "label"})
	var c mutatingWebhookConfiguration
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	var sel bytes.Buffer
	json.Compact(&sel, c.Webhooks[0].NamespaceSelector)
	if sel.String() != `{"matchExpressions":[{"key":"istio-injection","operator":"In","values":["enabled"]}]}` ||
		c.Webhooks[0].ClientConfig.URL != "https://127.0.0.1:1/inject/revision/default/record/label/image/i" {
		t.Errorf("default revision config:\n%s", out)
	}
	if _, err := webhookConfig(webhookOptions{Name: "x"}); err == nil {
		t.Error("missing flags accepted")
	}
}

func TestParamsFromURL(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   Params
		bad    bool
	}{
		{"/inject/revision/1-6-14/image/docker.io/istio/proxyv2:1.6.14",
			Params{"1-6-14", "docker.io/istio/proxyv2:1.6.14", RecordBoth}, false},
		{"/inject/revision/default/record/label/image/gcr.io/istio-release/proxyv2@sha256:abc",
			Params{"default", "gcr.io/istio-release/proxyv2@sha256:abc", RecordLabel}, false},
		{"/inject?revision=1-11-8&image=docker.io/istio/proxyv2:1.11.8&record=annotation",
			Params{"1-11-8", "docker.io/istio/proxyv2:1.11.8", RecordAnnotation}, false},
		{"/inject/revision/x", Params{}, true},
		{"/inject/bogus/x/image/i", Params{}, true},
		{"/inject/revision/x/record/sometimes/image/i", Params{}, true},
	} {
		got, err := paramsFrom(httptest.NewRequest("POST", tc.target, nil))
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("%s: got %+v, %v", tc.target, got, err)
		}
	}
	// What --print-webhook-config writes must parse back.
	u := injectURL("https://127.0.0.1:1", "1-6-14", "docker.io/istio/proxyv2:1.6.14", "none")
	got, err := paramsFrom(httptest.NewRequest("POST", u, nil))
	if err != nil || got != (Params{"1-6-14", "docker.io/istio/proxyv2:1.6.14", RecordNone}) {
		t.Errorf("%s: got %+v, %v", u, got, err)
	}
}
