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
