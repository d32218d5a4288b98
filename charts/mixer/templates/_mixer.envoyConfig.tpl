{{!--
  ConfigMap <type>-envoy-config: the bootstrap pilot-agent starts Mixer's Envoy with
  (--templateFile). Envoy terminates mTLS on 15004 (certificates over SDS from the agent) and
  plaintext on 9091, forwarding both to Mixer's unix socket; 15090 serves Envoy's Prometheus stats.
  Envoy v2 API names for 1.5/1.6, v3 for 1.7. Hash: type.
--}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{type}}-envoy-config
  namespace: {{Release.Namespace}}
  labels:
    app: {{type}}
    istio: mixer
    release: {{Release.Name}}
data:
  envoy.yaml.tmpl: |-
    admin:
      access_log_path: /dev/null
      address:
        socket_address:
          address: 127.0.0.1
          port_value: 15000
    stats_config:
      use_all_default_tags: false
    static_resources:
      clusters:
      - name: mixer_server
        type: STATIC
        connect_timeout: 1s
        http2_protocol_options:
          max_concurrent_streams: 1073741824
        load_assignment:
          cluster_name: mixer_server
          endpoints:
          - lb_endpoints:
            - endpoint:
                address:
                  pipe:
                    path: /sock/mixer.socket
      - name: sds-grpc
        type: STATIC
        connect_timeout: 1s
        http2_protocol_options: {}
        load_assignment:
          cluster_name: sds-grpc
          endpoints:
          - lb_endpoints:
            - endpoint:
                address:
                  pipe:
                    path: ./etc/istio/proxy/SDS
      - name: prometheus_stats
        type: STATIC
        connect_timeout: 0.25s
        load_assignment:
          cluster_name: prometheus_stats
          endpoints:
          - lb_endpoints:
            - endpoint:
                address:
                  socket_address:
                    address: 127.0.0.1
                    port_value: 15000
      listeners:
      - name: "15004"
        address:
          socket_address:
            address: 0.0.0.0
            port_value: 15004
        filter_chains:
        - filters:
          -
            {{> mixer.envoyHcm port="15004"}}
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}type.googleapis.com/envoy.api.v2.auth.DownstreamTlsContext{{else}}type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext{{/if}}
              require_client_certificate: true
              common_tls_context:
                alpn_protocols:
                - h2
                tls_certificate_sds_secret_configs:
                - name: default
                  sds_config:
                    {{> mixer.envoySds}}
                combined_validation_context:
                  default_validation_context: {}
                  validation_context_sds_secret_config:
                    name: ROOTCA
                    sds_config:
                      {{> mixer.envoySds}}
      - name: "9091"
        address:
          socket_address:
            address: 0.0.0.0
            port_value: 9091
        filter_chains:
        - filters:
          -
            {{> mixer.envoyHcm port="9091"}}
      - name: "15090"
        address:
          socket_address:
            address: 0.0.0.0
            port_value: 15090
        filter_chains:
        - filters:
          - name: {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}envoy.http_connection_manager{{else}}envoy.filters.network.http_connection_manager{{/if}}
            typed_config:
              "@type": {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager{{else}}type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager{{/if}}
              codec_type: AUTO
              stat_prefix: stats
              route_config:
                virtual_hosts:
                - name: backend
                  domains:
                  - "*"
                  routes:
                  - match:
                      prefix: /stats/prometheus
                    route:
                      cluster: prometheus_stats
              http_filters:
              - name: {{#if (semverCompare "<1.7.0-0" Chart.AppVersion)}}envoy.router{{else}}envoy.filters.http.router{{/if}}
