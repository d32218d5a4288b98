      volumes:
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
      # Projected token (audience istio-ca) istiod uses to authenticate to itself as a CA client.
      - name: istio-token
        projected:
          sources:
          - serviceAccountToken:
              audience: istio-ca
              expirationSeconds: 43200
              path: istio-token
{{/if}}
      # istiod's self-signed serving certificate for 15012 and the webhooks.
      - name: local-certs
        emptyDir:
          medium: Memory
      # Optional plug-in CA (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem).
      - name: cacerts
        secret:
          secretName: cacerts
          optional: true
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
      - name: istio-kubeconfig
        secret:
          secretName: istio-kubeconfig
          optional: true
{{/if}}
{{#if (semverCompare ">=1.29.0-0" Chart.AppVersion)}}
      # Serving certificate and CA from cert-manager's istio-csr, when it is used.
      - name: istio-csr-dns-cert
        secret:
          secretName: istiod-tls
          optional: true
      - name: istio-csr-ca-configmap
        configMap:
          name: istio-ca-root-cert
          defaultMode: 420
          optional: true
{{/if}}
      - name: config-volume
        configMap:
          name: istio{{#if Values.revision}}-{{Values.revision}}{{/if}}
      - name: inject
        configMap:
          name: istio-sidecar-injector{{#if Values.revision}}-{{Values.revision}}{{/if}}
