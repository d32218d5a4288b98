        resources:{{nindent 10 (toYaml Values.pilot.resources)}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsUser: 1337
          runAsGroup: 1337
          runAsNonRoot: true
          capabilities:
            drop:
            - ALL
        volumeMounts:
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
        - name: istio-token
          mountPath: /var/run/secrets/tokens
          readOnly: true
{{/if}}
        - name: local-certs
          mountPath: /var/run/secrets/istio-dns
        - name: cacerts
          mountPath: /etc/cacerts
          readOnly: true
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
        - name: istio-kubeconfig
          mountPath: /var/run/secrets/remote
          readOnly: true
{{/if}}
{{#if (semverCompare ">=1.29.0-0" Chart.AppVersion)}}
        - name: istio-csr-dns-cert
          mountPath: /var/run/secrets/istiod/tls
          readOnly: true
        - name: istio-csr-ca-configmap
          mountPath: /var/run/secrets/istiod/ca
          readOnly: true
{{/if}}
        - name: config-volume
          mountPath: /etc/istio/config
        - name: inject
          mountPath: /var/lib/istio/inject
          readOnly: true
