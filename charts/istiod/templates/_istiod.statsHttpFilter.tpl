name: {{#if (semverCompare "<1.6.0-0" v)}}envoy.filters.http.wasm{{else}}istio.stats{{/if}}
typed_config:
  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
  type_url: {{#if (semverCompare "<1.7.0-0" v)}}type.googleapis.com/envoy.config.filter.http.wasm.v2.Wasm{{else}}type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm{{/if}}
  value:
    {{> istiod.wasmConfig vm=root code="envoy.wasm.stats"}}
