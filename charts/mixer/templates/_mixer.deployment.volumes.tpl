      volumes:
      - name: uds-socket
        emptyDir: {}
      - name: istio-envoy
        emptyDir:
          medium: Memory
      - name: {{type}}-adapter-secret
        secret:
          secretName: {{type}}-adapter-secret
          optional: true
      - name: envoy-config
        configMap:
          name: {{type}}-envoy-config
      - name: istiod-ca-cert
        configMap:
          name: istio-ca-root-cert
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
      - name: istio-token
        projected:
          sources:
          - serviceAccountToken:
              audience: istio-ca
              expirationSeconds: 43200
              path: istio-token
{{/if}}
