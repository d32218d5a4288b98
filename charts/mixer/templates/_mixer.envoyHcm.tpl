name: {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}envoy.http_connection_manager{{else}}envoy.filters.network.http_connection_manager{{/if}}
typed_config:
  "@type": {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager{{else}}type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager{{/if}}
  codec_type: HTTP2
  stat_prefix: "{{port}}"
  stream_idle_timeout: 0s
  http2_protocol_options:
    max_concurrent_streams: 1073741824
  route_config:
    name: "{{port}}"
    virtual_hosts:
    - name: istio-{{type}}
      domains:
      - "*"
      routes:
      - match:
          prefix: /
        route:
          cluster: mixer_server
          timeout: 0s
  http_filters:
  - name: {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}envoy.router{{else}}envoy.filters.http.router{{/if}}
