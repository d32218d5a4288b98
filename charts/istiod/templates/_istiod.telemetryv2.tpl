{{!--
  Telemetry v2 EnvoyFilters for proxies of one minor version. Hash: v ("1.6"), minor ("6").
  Envoy renamed its filters for 1.7 proxies (envoy.router -> envoy.filters.http.router, ...) and the
  Wasm config moved from v2 to v3 types; 1.4/1.5 proxies name the filters envoy.filters.*.wasm,
  1.6+ istio.metadata_exchange / istio.stats. Names get the -<rev> suffix and istio.io/rev from 1.6.
--}}
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: metadata-exchange-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
  namespace: {{Release.Namespace}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  labels:
    istio.io/rev: {{quote (default "default" Values.revision)}}
{{/if}}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: ANY
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      listener:
        filterChain:
          filter:
            name: {{#if (semverCompare "<1.7.0-0" v)}}envoy.http_connection_manager{{else}}envoy.filters.network.http_connection_manager{{/if}}
    patch:
      operation: INSERT_BEFORE
      value:
        name: {{#if (semverCompare "<1.6.0-0" v)}}envoy.filters.http.wasm{{else}}istio.metadata_exchange{{/if}}
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: {{#if (semverCompare "<1.7.0-0" v)}}type.googleapis.com/envoy.config.filter.http.wasm.v2.Wasm{{else}}type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm{{/if}}
          value:
            {{> istiod.wasmConfig code="envoy.wasm.metadata_exchange" json='{"max_peer_cache_size": 10000}'}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: tcp-metadata-exchange-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
  namespace: {{Release.Namespace}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  labels:
    istio.io/rev: {{quote (default "default" Values.revision)}}
{{/if}}
spec:
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      listener: {}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.tcpMetadataExchange}}
  - applyTo: CLUSTER
    match:
      context: SIDECAR_OUTBOUND
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      cluster: {}
    patch:
      operation: MERGE
      value:
        filters:
        -
          {{> istiod.tcpMetadataExchange}}
  - applyTo: CLUSTER
    match:
      context: GATEWAY
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      cluster: {}
    patch:
      operation: MERGE
      value:
        filters:
        -
          {{> istiod.tcpMetadataExchange}}
{{#if Values.telemetry.v2.prometheus.enabled}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: stats-filter-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
  namespace: {{Release.Namespace}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  labels:
    istio.io/rev: {{quote (default "default" Values.revision)}}
{{/if}}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_OUTBOUND
      {{> istiod.statsHttpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.statsHttpFilter root="stats_outbound" json='{"debug": "false", "stat_prefix": "istio"}'}}
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      {{> istiod.statsHttpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.statsHttpFilter root="stats_inbound" json='{"debug": "false", "stat_prefix": "istio"}'}}
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      {{> istiod.statsHttpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.statsHttpFilter root="stats_outbound" json='{"debug": "false", "stat_prefix": "istio", "disable_host_header_fallback": true}'}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: tcp-stats-filter-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
  namespace: {{Release.Namespace}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  labels:
    istio.io/rev: {{quote (default "default" Values.revision)}}
{{/if}}
spec:
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      {{> istiod.statsTcpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.statsTcpFilter root="stats_inbound" vm="tcp_stats_inbound"}}
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_OUTBOUND
      {{> istiod.statsTcpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.statsTcpFilter root="stats_outbound" vm="tcp_stats_outbound"}}
  - applyTo: NETWORK_FILTER
    match:
      context: GATEWAY
      {{> istiod.statsTcpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.statsTcpFilter root="stats_outbound" vm="tcp_stats_outbound"}}
{{/if}}
