package main

// webhookconfig.go: --print-webhook-config, the MutatingWebhookConfiguration that sends Pod CREATEs in
// the selected namespaces to a running stand-in.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// StandInLabel marks every object the stand-in's config creates, so tests can find and delete them:
// kubectl delete mutatingwebhookconfiguration -l sailplan.test/stand-in=true
const StandInLabel = "sailplan.test/stand-in"

type webhookOptions struct {
	Name, WebhookName, URLBase, CAFile, Revision, Image, Record, NamespaceSelectorJSON string
}

type labelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

type labelSelector struct {
	MatchExpressions []labelSelectorRequirement `json:"matchExpressions"`
}

type mutatingWebhookConfiguration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Webhooks []mutatingWebhook `json:"webhooks"`
}

type rule struct {
	APIGroups   []string `json:"apiGroups"`
	APIVersions []string `json:"apiVersions"`
	Operations  []string `json:"operations"`
	Resources   []string `json:"resources"`
	Scope       string   `json:"scope"`
}

type mutatingWebhook struct {
	Name         string `json:"name"`
	ClientConfig struct {
		URL      string `json:"url"`
		CABundle []byte `json:"caBundle"` // base64 in JSON
	} `json:"clientConfig"`
	Rules                   []rule          `json:"rules"`
	NamespaceSelector       json.RawMessage `json:"namespaceSelector"`
	SideEffects             string          `json:"sideEffects"`
	AdmissionReviewVersions []string        `json:"admissionReviewVersions"`
	FailurePolicy           string          `json:"failurePolicy"`
	ReinvocationPolicy      string          `json:"reinvocationPolicy"`
	TimeoutSeconds          int             `json:"timeoutSeconds"`
}

// defaultNamespaceSelector is Istio's: the revision webhook takes namespaces labelled istio.io/rev=REV
// that do not use the older istio-injection label; the default revision takes istio-injection=enabled.
func defaultNamespaceSelector(rev string) labelSelector {
	if rev == "default" {
		return labelSelector{[]labelSelectorRequirement{
			{Key: "istio-injection", Operator: "In", Values: []string{"enabled"}},
		}}
	}
	return labelSelector{[]labelSelectorRequirement{
		{Key: "istio.io/rev", Operator: "In", Values: []string{rev}},
		{Key: "istio-injection", Operator: "DoesNotExist"},
	}}
}

// injectURL is the webhook URL for these parameters. The API server rejects webhook URLs with a query
// string ("query parameters are not permitted in the URL"), so the parameters travel as path segments,
// as Istio's own /inject/cluster/X/net/Y does; the image goes last because it contains slashes:
//
//	https://127.0.0.1:PORT/inject/revision/1-6-14[/record/label]/image/docker.io/istio/proxyv2:1.6.14
func injectURL(base, rev, image, record string) string {
	u := strings.TrimRight(base, "/") + "/inject/revision/" + url.PathEscape(rev)
	if record != "" {
		u += "/record/" + url.PathEscape(record)
	}
	segs := strings.Split(image, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg) // keeps ':' and '@' (tags, digests) as they are
	}
	return u + "/image/" + strings.Join(segs, "/")
}

func webhookConfig(o webhookOptions) ([]byte, error) {
	var missing []string
	for _, f := range []struct{ flag, v string }{
		{"--name", o.Name}, {"--url-base", o.URLBase}, {"--ca-file", o.CAFile},
		{"--revision", o.Revision}, {"--image", o.Image},
	} {
		if f.v == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--print-webhook-config needs %s", strings.Join(missing, ", "))
	}
	if _, err := parseRecord(o.Record); err != nil {
		return nil, err
	}
	if u, err := url.Parse(o.URLBase); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" ||
		strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("--url-base must look like https://127.0.0.1:PORT (got %q)", o.URLBase)
	}
	ca, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("%s holds no PEM certificate", o.CAFile)
	}

	var sel json.RawMessage
	if o.NamespaceSelectorJSON != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(o.NamespaceSelectorJSON), &obj); err != nil || obj == nil {
			return nil, errors.New("--namespace-selector-json must be a JSON object (a LabelSelector)")
		}
		sel, _ = json.Marshal(obj)
	} else {
		sel, _ = json.Marshal(defaultNamespaceSelector(o.Revision))
	}

	var c mutatingWebhookConfiguration
	c.APIVersion = "admissionregistration.k8s.io/v1"
	c.Kind = "MutatingWebhookConfiguration"
	c.Metadata.Name = o.Name
	c.Metadata.Labels = map[string]string{StandInLabel: "true", StandInLabel + "-revision": o.Revision}
	var h mutatingWebhook
	h.Name = o.WebhookName
	h.ClientConfig.URL = injectURL(o.URLBase, o.Revision, o.Image, o.Record)
	h.ClientConfig.CABundle = ca
	h.Rules = []rule{{
		APIGroups: []string{""}, APIVersions: []string{"v1"},
		Operations: []string{"CREATE"}, Resources: []string{"pods"}, Scope: "*",
	}}
	h.NamespaceSelector = sel
	h.SideEffects = "None"
	h.AdmissionReviewVersions = []string{"v1"}
	h.FailurePolicy = "Fail"
	h.ReinvocationPolicy = "Never"
	h.TimeoutSeconds = 5
	c.Webhooks = []mutatingWebhook{h}

	// No HTML escaping: the URL's '&' stays '&' instead of \u0026 (same JSON, easier to read and grep).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
