package main

import "testing"

func TestServiceOf(t *testing.T) {
	cases := []struct {
		host, ns, svc string
		ok            bool
	}{
		{"istiod-1-6-14.istio-system.svc:443", "istio-system", "istiod-1-6-14", true},
		{"istiod.istio-system.svc", "istio-system", "istiod", true},
		{"istiod.istio-system.svc.cluster.local:443", "istio-system", "istiod", true},
		{"example.com:443", "", "", false},
		{"10.96.0.10:443", "", "", false},
	}
	for _, c := range cases {
		ns, svc, ok := serviceOf(c.host)
		if ns != c.ns || svc != c.svc || ok != c.ok {
			t.Errorf("serviceOf(%q) = %q, %q, %v; want %q, %q, %v", c.host, ns, svc, ok, c.ns, c.svc, c.ok)
		}
	}
}

func TestProxyImage(t *testing.T) {
	cases := []struct{ image, proxy, tag string }{
		{"docker.io/istio/pilot:1.6.14", "docker.io/istio/proxyv2:1.6.14", "1.6.14"},
		{"gcr.io/istio-release/sidecar_injector:1.4.10", "gcr.io/istio-release/proxyv2:1.4.10", "1.4.10"},
		{"localhost:5000/istio/pilot:1.8.6", "localhost:5000/istio/proxyv2:1.8.6", "1.8.6"},
		{"pilot", "proxyv2:latest", "latest"},
	}
	for _, c := range cases {
		proxy, tag := proxyImage(c.image)
		if proxy != c.proxy || tag != c.tag {
			t.Errorf("proxyImage(%q) = %q, %q; want %q, %q", c.image, proxy, tag, c.proxy, c.tag)
		}
	}
}

func TestRecordFor(t *testing.T) {
	cases := map[string]Record{
		"1.4.10": RecordNone, "1.5.10": RecordNone, "1.6.14": RecordLabel, "1.10.6": RecordLabel,
		"1.11.0": RecordBoth, "1.31.1": RecordBoth, "latest": RecordBoth,
	}
	for tag, want := range cases {
		if got := recordFor(tag); got != want {
			t.Errorf("recordFor(%q) = %q; want %q", tag, got, want)
		}
	}
}
