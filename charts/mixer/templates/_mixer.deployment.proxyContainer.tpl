      # Envoy in front of Mixer: mTLS on 15004 and plaintext on 9091, both to Mixer's unix socket.
      - name: istio-proxy
        image: "{{Values.global.hub}}/{{Values.global.proxy.image}}:{{default Chart.AppVersion Values.global.tag}}"
        imagePullPolicy: {{Values.global.imagePullPolicy}}
        ports:
        - name: grpc-mixer
          containerPort: 9091
          protocol: TCP
        - name: grpc-mixer-mtls
          containerPort: 15004
          protocol: TCP
        - name: http-envoy-prom
          containerPort: 15090
          protocol: TCP
        args:
        - proxy
        - --domain
        - $(POD_NAMESPACE).svc.{{Values.global.proxy.clusterDomain}}
        - --serviceCluster
        - istio-{{type}}
        - --templateFile
        - /var/lib/envoy/envoy.yaml.tmpl
        - --controlPlaneAuthPolicy
        - MUTUAL_TLS
        - --proxyLogLevel={{Values.global.proxy.logLevel}}
        - --trust-domain={{Values.global.trustDomain}}
