{{!--
  Telemetry v2 EnvoyFilters for proxies of one minor version. Hash: v ("1.6"), minor ("6").
  Envoy renamed its filters for 1.7 proxies (envoy.router -> envoy.filters.http.router, ...) and the
  Wasm config moved from v2 to v3 types; 1.4/1.5 proxies name the filters envoy.filters.*.wasm,
  1.6+ istio.metadata_exchange / istio.stats. Names get the -<rev> suffix and istio.io/rev from 1.6.
--}}
{{> istiod.telemetryv2.metadataExchange}}
---
{{> istiod.telemetryv2.tcpMetadataExchange}}
{{#if Values.telemetry.v2.prometheus.enabled}}
---
{{> istiod.telemetryv2.stats}}
---
{{> istiod.telemetryv2.tcpStats}}
{{/if}}
