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
