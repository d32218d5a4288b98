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
