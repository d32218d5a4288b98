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
