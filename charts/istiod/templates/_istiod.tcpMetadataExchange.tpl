name: {{#if (semverCompare "<1.6.0-0" v)}}envoy.filters.network.metadata_exchange{{else}}istio.metadata_exchange{{/if}}
typed_config:
  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
  type_url: type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange
  value:
    protocol: istio-peer-exchange
